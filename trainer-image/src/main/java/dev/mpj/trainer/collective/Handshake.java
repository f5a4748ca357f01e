package dev.mpj.trainer.collective;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual HMAC-SHA256 challenge-response on a fresh connection, before anything else crosses it.
 *
 * <pre>
 * client -> server  hello:  "MPJ1" purpose rank worldSize attempt nonceC(32)
 * server -> client  hello:  "MPJ1" purpose rank worldSize attempt nonceS(32)  HMAC(token, "server" | both hellos)
 * client -> server  proof:  HMAC(token, "client" | both hellos)
 * server -> client  verdict: 1
 * </pre>
 *
 * Each side proves the token over the other side's fresh nonce, so neither a recorded exchange nor
 * a reflected one proves anything, and the token itself never crosses the wire. The labels keep a
 * server's proof from being replayed as a client's. Ranks, world size and attempt are inside what
 * is signed; a peer of another attempt (a straggler of an earlier start of the gang) is refused.
 */
final class Handshake {

  /** What a connection is for; part of what is signed so one kind cannot stand in for the other. */
  enum Purpose {
    COORDINATOR,
    RING
  }

  /** Thrown when the peer cannot prove the token, or is not the peer expected. */
  static final class AuthenticationException extends IOException {
    AuthenticationException(String message) {
      super(message);
    }
  }

  private static final byte[] MAGIC = "MPJ1".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE_BYTES = 32;
  private static final int MAC_BYTES = 32;
  private static final int HELLO_BYTES = MAGIC.length + 1 + 4 + 4 + 4 + NONCE_BYTES;
  private static final byte ACCEPTED = 1;

  private final SecretKeySpec key;
  private final int worldSize;
  private final int attempt;
  private final SecureRandom random = new SecureRandom();

  Handshake(String token, int worldSize, int attempt) {
    this.key = new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    this.worldSize = worldSize;
    this.attempt = attempt;
  }

  /**
   * Authenticates the server at the other end of {@code socket} and proves the token to it.
   *
   * @param expectedPeerRank the rank the server must be
   */
  void asClient(Socket socket, Purpose purpose, int myRank, int expectedPeerRank)
      throws IOException {
    DataInputStream in = new DataInputStream(socket.getInputStream());
    OutputStream out = socket.getOutputStream();
    byte[] clientHello = hello(purpose, myRank);
    out.write(clientHello);
    out.flush();

    byte[] serverHello = new byte[HELLO_BYTES];
    in.readFully(serverHello);
    byte[] serverProof = new byte[MAC_BYTES];
    in.readFully(serverProof);
    Hello server = parse(serverHello, purpose);
    if (!MessageDigest.isEqual(serverProof, mac("server", clientHello, serverHello))) {
      throw new AuthenticationException(
          "the peer at " + socket.getRemoteSocketAddress() + " does not know the job token");
    }
    checkPeer(server, expectedPeerRank, socket);
    out.write(mac("client", clientHello, serverHello));
    out.flush();
    if (in.readByte() != ACCEPTED) {
      throw new AuthenticationException(
          "the peer at " + socket.getRemoteSocketAddress() + " refused this rank");
    }
  }

  /**
   * Authenticates the client at the other end of {@code socket}, proving the token to it first.
   *
   * @param expectedPeerRank the rank the client must be, or -1 for any rank other than this one
   * @return the client's authenticated rank
   */
  int asServer(Socket socket, Purpose purpose, int myRank, int expectedPeerRank)
      throws IOException {
    DataInputStream in = new DataInputStream(socket.getInputStream());
    OutputStream out = socket.getOutputStream();
    byte[] clientHello = new byte[HELLO_BYTES];
    in.readFully(clientHello);
    Hello client = parse(clientHello, purpose);

    byte[] serverHello = hello(purpose, myRank);
    byte[] reply = new byte[HELLO_BYTES + MAC_BYTES];
    System.arraycopy(serverHello, 0, reply, 0, HELLO_BYTES);
    System.arraycopy(mac("server", clientHello, serverHello), 0, reply, HELLO_BYTES, MAC_BYTES);
    out.write(reply);
    out.flush();

    byte[] clientProof = new byte[MAC_BYTES];
    in.readFully(clientProof);
    if (!MessageDigest.isEqual(clientProof, mac("client", clientHello, serverHello))) {
      throw new AuthenticationException(
          "the peer at " + socket.getRemoteSocketAddress() + " does not know the job token");
    }
    if (expectedPeerRank >= 0) {
      checkPeer(client, expectedPeerRank, socket);
    } else if (client.rank == myRank || client.rank < 0 || client.rank >= worldSize) {
      throw new AuthenticationException(
          "the peer at " + socket.getRemoteSocketAddress() + " claims rank " + client.rank);
    }
    checkSameJobStart(client, socket);
    out.write(ACCEPTED);
    out.flush();
    return client.rank;
  }

  private byte[] hello(Purpose purpose, int myRank) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    return ByteBuffer.allocate(HELLO_BYTES)
        .put(MAGIC)
        .put((byte) purpose.ordinal())
        .putInt(myRank)
        .putInt(worldSize)
        .putInt(attempt)
        .put(nonce)
        .array();
  }

  private record Hello(int rank, int worldSize, int attempt) {}

  private static Hello parse(byte[] hello, Purpose purpose) throws AuthenticationException {
    ByteBuffer buffer = ByteBuffer.wrap(hello);
    byte[] magic = new byte[MAGIC.length];
    buffer.get(magic);
    if (!MessageDigest.isEqual(magic, MAGIC)) {
      throw new AuthenticationException("not an MPJ replica (bad greeting)");
    }
    if (buffer.get() != purpose.ordinal()) {
      throw new AuthenticationException("a connection for another purpose than " + purpose);
    }
    return new Hello(buffer.getInt(), buffer.getInt(), buffer.getInt());
  }

  private void checkPeer(Hello peer, int expectedRank, Socket socket)
      throws AuthenticationException {
    if (peer.rank != expectedRank) {
      throw new AuthenticationException(
          "the peer at "
              + socket.getRemoteSocketAddress()
              + " is rank "
              + peer.rank
              + ", expected rank "
              + expectedRank);
    }
    checkSameJobStart(peer, socket);
  }

  private void checkSameJobStart(Hello peer, Socket socket) throws AuthenticationException {
    if (peer.worldSize != worldSize) {
      throw new AuthenticationException(
          "the peer at "
              + socket.getRemoteSocketAddress()
              + " has world size "
              + peer.worldSize
              + ", this replica "
              + worldSize);
    }
    if (peer.attempt != attempt) {
      throw new AuthenticationException(
          "the peer at "
              + socket.getRemoteSocketAddress()
              + " is from attempt "
              + peer.attempt
              + ", this replica from attempt "
              + attempt);
    }
  }

  private byte[] mac(String role, byte[] clientHello, byte[] serverHello) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(role.getBytes(StandardCharsets.US_ASCII));
      mac.update(clientHello);
      mac.update(serverHello);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java 17 runtime", e);
    }
  }
}
