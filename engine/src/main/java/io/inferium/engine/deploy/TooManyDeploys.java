package io.inferium.engine.deploy;

/** The verification queue is full; the client should retry later. */
public class TooManyDeploys extends RuntimeException {
  public TooManyDeploys(String message) {
    super(message, null, false, false);
  }

  /** The owner's share of the verification queue is used up; other tenants' deploys still get in. */
  public static final class OwnerShare extends TooManyDeploys {
    private final int pending;

    public OwnerShare(int pending) {
      super("this tenant has " + pending + " deployment(s) waiting for verification");
      this.pending = pending;
    }

    public int pending() {
      return pending;
    }
  }
}
