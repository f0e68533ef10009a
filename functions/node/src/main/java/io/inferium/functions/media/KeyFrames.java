package io.inferium.functions.media;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jcodec.codecs.h264.H264Utils;
import org.jcodec.common.SeekableDemuxerTrack;
import org.jcodec.common.model.Packet;

/**
 * The places a video track can be decoded from: the frames its MP4 sync-sample table ({@code stss}) lists that are
 * IDR pictures. Only an IDR is a clean restart: H.264 frames after it never reference frames before it, and frames
 * before it are all shown before it, so decoding from an IDR gives exactly the pictures decoding from the start would.
 * A sync sample that is not an IDR (an open-GOP recovery point, or a file that lies) is not used. The table is
 * checked before it is used (every entry a frame of the track, strictly increasing: else the file is refused), and
 * reading it costs one packet read per entry, no decoding.
 */
final class KeyFrames {

  private KeyFrames() {}

  /** An IDR frame: its index in decoding order and its presentation time, seconds. */
  record Key(int frame, double time) {}

  /**
   * The sync-sample table as 0-based frame indices, checked, or null where the track has none (every frame a sync
   * sample: JCodec then lists them all).
   *
   * @throws MediaException naming the entry where the table is out of range or out of order
   */
  static int[] table(int[] sync, long frameCount, String which) throws MediaException {
    if (sync == null) {
      return null;
    }
    for (int i = 0; i < sync.length; i++) {
      if (sync[i] < 0 || sync[i] >= frameCount) {
        throw new MediaException(which + "'s sync-sample table (stss) lists sample " + (sync[i] + 1L) + " at entry " + i
            + ", outside the track's samples 1.." + frameCount, false);
      }
      if (i > 0 && sync[i] <= sync[i - 1]) {
        throw new MediaException(which + "'s sync-sample table (stss) is not in increasing order: sample " + (sync[i] + 1L)
            + " follows sample " + (sync[i - 1] + 1L) + " at entry " + i, false);
      }
    }
    return sync;
  }

  /**
   * Reads the IDR frames of {@code track} from its checked sync table up to the first one past {@code until} seconds
   * (it ends the last group of pictures a sample can need), at most {@code max} of them; stops early where
   * presentation times stop increasing (the frames after that are decoded in order instead). Leaves the track at an
   * arbitrary position.
   */
  static List<Key> read(SeekableDemuxerTrack track, int[] sync, double until, int max, VideoInputs.Budget budget)
      throws IOException, MediaException {
    List<Key> keys = new ArrayList<>();
    for (int i = 0; sync != null && i < sync.length && keys.size() < max; i++) {
      budget.check();
      if (!track.gotoFrame(sync[i])) {
        break;
      }
      Packet packet = track.nextFrame();
      if (packet == null || packet.getData() == null) {
        break;
      }
      double time = packet.getPtsD();
      if (!Double.isFinite(time) || (!keys.isEmpty() && time <= keys.get(keys.size() - 1).time())) {
        break;
      }
      if (H264Utils.isByteBufferIDRSlice(packet.getData().duplicate())) {
        keys.add(new Key(sync[i], time));
      }
      if (time > until) {
        break;
      }
    }
    return keys;
  }

  /** The index in {@code keys} of the last key shown at or before {@code time}, or -1 where none is. */
  static int before(List<Key> keys, double time) {
    int lo = 0;
    int hi = keys.size() - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (keys.get(mid).time() <= time + 1e-9) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
