// The gateway's CPU per receipt, old way against new, measured as this thread's CPU time (not wall time), so the
// figure holds on a machine that other work keeps busy (docs/BENCHMARKS.md, "Receipts made cheap"):
//
//   java -cp engine/target/inferium.jar loadtest/scripts/ReceiptCost.java [receipts per round, default 20000]
//
// old: what each receipt cost before V29 — the event parsed, the receipt built, its leaf hashed through web3j's
//      general ABI encoder for the stored JSON, and at epoch close the jsonb body parsed back and hashed again;
// new: the event parsed, the receipt built, its leaf hashed once from Receipt.abiEncoded, the fields encoded; an
//      epoch is built from the stored leaves (the Merkle tree's inner hashes, the same for both, are not counted).
import io.inferium.chain.Receipt;
import io.inferium.chain.merkle.MerkleTree;
import io.inferium.functions.CompletionEvent;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

public class ReceiptCost {

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    List<JsonObject> events = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      // What V2Routes emits for a tensor call (a signature-sized evidence field added).
      events.add(CompletionEvent.builder("req-" + Long.toHexString(0x1234_5678_9abcL * (i + 1)), "add", 1, "acme",
              "ab".repeat(32)).at(Instant.now()).tenant("t-acme").endpoint("v2.infer", "request")
          .inputSha256("01".repeat(32)).outputSha256("02".repeat(32)).worker("w1-1")
          .evidence(new JsonObject().put("signature", "c2ln".repeat(22)))
          .verdict(null, null).charge(1, 180, 100).timings(40, 180, 700).detail("batch_rows", 1).build().toJson());
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long[] old = new long[8];
    long[] neu = new long[8];
    for (int round = 0; round < old.length; round++) {
      long t0 = cpu.getCurrentThreadCpuTime();
      long sink = 0;
      for (JsonObject e : events) {
        Receipt r = Receipt.of(CompletionEvent.fromJson(e));
        String body = r.fieldsJson().put("leaf", "0x" + HexFormat.of().formatHex(MerkleTree.leafHash(r.abiValues())))
            .encode();
        Receipt back = Receipt.fromJson(new JsonObject(body)); // closing the epoch: the body read back…
        sink += MerkleTree.leafHash(back.abiValues())[0]; // …and hashed again
      }
      long t1 = cpu.getCurrentThreadCpuTime();
      for (JsonObject e : events) {
        Receipt r = Receipt.of(CompletionEvent.fromJson(e));
        byte[] leaf = r.leaf();
        sink += leaf[0] + r.fieldsJson().encode().length();
      }
      long t2 = cpu.getCurrentThreadCpuTime();
      old[round] = (t1 - t0) / n;
      neu[round] = (t2 - t1) / n;
      if (sink == 42) {
        System.out.println();
      }
    }
    // The first rounds warm the JIT up; the median of the last five is reported.
    long[] o = Arrays.copyOfRange(old, 3, old.length);
    long[] m = Arrays.copyOfRange(neu, 3, neu.length);
    Arrays.sort(o);
    Arrays.sort(m);
    System.out.printf("CPU per receipt (ns, median of 5 rounds of %d after 3 warm-up rounds): old %d, new %d, new/old %.2f%n",
        n, o[2], m[2], (double) m[2] / o[2]);
    System.out.println("rounds old: " + Arrays.toString(old) + "  new: " + Arrays.toString(neu));
  }
}
