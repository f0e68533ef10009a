package io.inferium.functions.media;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Turns the encoded images of an INFER (a BYTES tensor named after the model input, one image per
 * element) into that input's tensor, as the function's {@link ImagePreprocess} says: decode
 * ({@link ImageDecoder}), resize (bilinear, sampling at pixel centres, so an image already at the target
 * size passes unchanged), order the channels, scale, lay out. Runs in the worker, on the thread that
 * then runs the model.
 */
public final class ImageInputs {

  private ImageInputs() {}

  /** One tensor of {@code images.size()} pre-processed images. */
  public static Tensor tensor(ImagePreprocess p, List<byte[]> images, Cancellation cancellation) throws MediaException {
    int c = p.channels().count();
    int perImage = Math.multiplyExact(Math.multiplyExact(p.width(), p.height()), c);
    int n = images.size();
    int elementBytes = p.dtype() == DataType.UINT8 ? 1 : 4;
    ByteBuffer data = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(perImage, n), elementBytes))
        .order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[perImage];
    for (int i = 0; i < n; i++) {
      if (cancellation != null && cancellation.cancelled()) {
        throw new MediaException("cancelled", false);
      }
      ImageDecoder.Pixels px = ImageDecoder.decode(images.get(i), i, ImagePreprocess.MAX_SOURCE_PIXELS);
      fill(p, px, values);
      if (p.dtype() == DataType.UINT8) {
        for (float v : values) {
          data.put((byte) Math.round(v));
        }
      } else {
        for (float v : values) {
          data.putFloat(v);
        }
      }
    }
    return new Tensor(p.input(), p.dtype(), p.shape(n), data.flip());
  }

  /** Writes one image's values (0..255 for UINT8, scaled for FP32) in the layout of {@code p}. */
  static void fill(ImagePreprocess p, ImageDecoder.Pixels px, float[] out) {
    int tw = p.width();
    int th = p.height();
    int c = p.channels().count();
    // The source window sampled: the whole image (stretch) or its centre at the target's aspect ratio.
    double x0 = 0;
    double y0 = 0;
    double cw = px.width();
    double ch = px.height();
    if (p.resize() == ImagePreprocess.Resize.CENTER_CROP) {
      double scale = Math.max((double) tw / px.width(), (double) th / px.height());
      cw = tw / scale;
      ch = th / scale;
      x0 = (px.width() - cw) / 2;
      y0 = (px.height() - ch) / 2;
    }
    double[] rgb = new double[3];
    for (int y = 0; y < th; y++) {
      double sy = y0 + (y + 0.5) * ch / th - 0.5;
      for (int x = 0; x < tw; x++) {
        double sx = x0 + (x + 0.5) * cw / tw - 0.5;
        sample(px, sx, sy, rgb);
        for (int k = 0; k < c; k++) {
          double v = switch (p.channels()) {
            case RGB -> rgb[k];
            case BGR -> rgb[2 - k];
            case GRAY -> 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
          };
          float value = p.dtype() == DataType.UINT8 ? (float) Math.min(255, Math.max(0, v))
              : (float) ((v / 255.0 - p.mean().get(k)) / p.std().get(k));
          int index = p.layout() == ImagePreprocess.Layout.NCHW ? (k * th + y) * tw + x : (y * tw + x) * c + k;
          out[index] = value;
        }
      }
    }
  }

  /** Bilinear sample at source coordinates (pixel centres at integers), edges clamped. */
  private static void sample(ImageDecoder.Pixels px, double sx, double sy, double[] rgb) {
    int w = px.width();
    int h = px.height();
    double cx = Math.min(Math.max(sx, 0), w - 1);
    double cy = Math.min(Math.max(sy, 0), h - 1);
    int xa = (int) Math.floor(cx);
    int ya = (int) Math.floor(cy);
    int xb = Math.min(xa + 1, w - 1);
    int yb = Math.min(ya + 1, h - 1);
    double fx = cx - xa;
    double fy = cy - ya;
    int[] p = px.rgb();
    int a = p[ya * w + xa];
    int b = p[ya * w + xb];
    int cc = p[yb * w + xa];
    int d = p[yb * w + xb];
    for (int k = 0; k < 3; k++) {
      int shift = 16 - 8 * k;
      double top = ((a >> shift) & 0xff) * (1 - fx) + ((b >> shift) & 0xff) * fx;
      double bottom = ((cc >> shift) & 0xff) * (1 - fx) + ((d >> shift) & 0xff) * fx;
      rgb[k] = top * (1 - fy) + bottom * fy;
    }
  }
}
