package dev.mpj.trainer.collective;

/** A peer died, closed its connection, sent nonsense or stopped answering within the timeout. */
public class PeerFailedException extends CollectiveException {

  private final int peerRank;

  public PeerFailedException(int peerRank, String message) {
    super(message);
    this.peerRank = peerRank;
  }

  public PeerFailedException(int peerRank, String message, Throwable cause) {
    super(message, cause);
    this.peerRank = peerRank;
  }

  /** The rank whose connection failed first as seen from here; -1 when unknown. */
  public int peerRank() {
    return peerRank;
  }
}
