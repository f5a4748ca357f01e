package dev.mpj.trainer.collective;

/**
 * The group could not be formed: a peer never came, or never proved the job token, within the
 * timeout.
 */
public class RendezvousException extends CollectiveException {

  public RendezvousException(String message) {
    super(message);
  }

  public RendezvousException(String message, Throwable cause) {
    super(message, cause);
  }
}
