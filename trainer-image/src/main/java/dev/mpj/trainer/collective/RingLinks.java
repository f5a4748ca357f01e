package dev.mpj.trainer.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * This rank's two ring connections: it sends to its successor and receives from its predecessor, at
 * the same time (non-blocking channels and a selector), so a ring step never deadlocks on full
 * socket buffers and every wait, for reading and for writing, has a deadline. With a sender thread
 * ({@link #SENDER_THREAD}, off by default) a large send (from {@link #SENDER_THREAD_BYTES}) is
 * written by a thread of its own while the calling thread receives and reduces: the rank's work is
 * two threads' that the cores can run side by side, so that a core left idle while one rank waits
 * for the other can run the other's second thread. Whether that pays is the benchmark's to say
 * ({@code bench allreduce --senders inline,thread}); on the loaded build machine it was faster for
 * FP32 and slower for FP16 (docs/concepts/replicas.md), so it stays off until an idle run decides.
 *
 * <p>Every message carries a 12-byte header (operation number, operation kind, payload length) that
 * the receiver checks against what it expects: replicas that fell out of step fail loudly instead
 * of summing the wrong bytes.
 */
final class RingLinks implements AutoCloseable {

  /** Told of payload bytes as they arrive, so that reducing them overlaps receiving the rest. */
  interface ReceiveListener {
    /**
     * Bytes {@code [from, to)} of the payload (offsets from where the receive buffer started)
     * arrived.
     */
    void received(int from, int to);
  }

  /**
   * Told of payload bytes received into a small reused window (see {@link #exchangeThroughWindow}):
   * the window's bytes from index 0 are payload bytes {@code [payloadFrom, payloadFrom + length)}.
   */
  interface WindowListener {
    void received(ByteBuffer window, int payloadFrom, int length);
  }

  static final int HEADER_BYTES = 12;

  /**
   * Sends of at least this many bytes go to the sender thread; smaller ones (flags, gathers) are
   * written by the calling thread, where the hand-over would cost more than it saves.
   */
  static final int SENDER_THREAD_BYTES = 64 << 10;

  /**
   * Whether ring links use a sender thread: {@code -Dmpj.collective.sender-thread=true} (the
   * benchmark's comparison); off otherwise.
   */
  static final boolean SENDER_THREAD = Boolean.getBoolean("mpj.collective.sender-thread");

  private final int rank;
  private final int worldSize;
  private final SocketChannel next;
  private final SocketChannel prev;
  private final Selector selector;
  private final SelectionKey nextKey;
  private final SelectionKey prevKey;
  private final long timeoutNanos;
  private final ByteBuffer headerOut = ByteBuffer.allocateDirect(HEADER_BYTES);
  private final ByteBuffer headerIn = ByteBuffer.allocateDirect(HEADER_BYTES);
  private long waitedNanos;
  private final boolean senderThread;
  private ExecutorService sender;
  private Selector senderSelector;

  RingLinks(int rank, int worldSize, SocketChannel next, SocketChannel prev, Duration timeout)
      throws IOException {
    this(rank, worldSize, next, prev, timeout, SENDER_THREAD);
  }

  /**
   * @param senderThread large sends go to a sender thread of their own
   */
  RingLinks(
      int rank,
      int worldSize,
      SocketChannel next,
      SocketChannel prev,
      Duration timeout,
      boolean senderThread)
      throws IOException {
    this.senderThread = senderThread;
    this.rank = rank;
    this.worldSize = worldSize;
    this.next = next;
    this.prev = prev;
    this.timeoutNanos = timeout.toNanos();
    this.selector = Selector.open();
    for (SocketChannel channel : new SocketChannel[] {next, prev}) {
      channel.configureBlocking(false);
      channel.socket().setTcpNoDelay(true);
    }
    this.nextKey = next.register(selector, 0);
    this.prevKey = prev.register(selector, 0);
  }

  /**
   * Nanoseconds this rank has spent waiting for its neighbours (neither connection could move),
   * since it joined: for the benchmark, to tell waiting from a shortage of CPU.
   */
  long waitedNanos() {
    return waitedNanos;
  }

  int successor() {
    return (rank + 1) % worldSize;
  }

  int predecessor() {
    return (rank + worldSize - 1) % worldSize;
  }

  /**
   * Sends {@code send}'s remaining bytes to the successor while receiving exactly {@code recv}'s
   * remaining bytes from the predecessor; either may be null. Returns when both are done.
   *
   * @param granule the listener hears of received bytes in multiples of this (an element's size)
   * @throws PeerFailedException when a connection fails or nothing moves for the timeout
   */
  void exchange(
      int operation,
      int kind,
      ByteBuffer send,
      ByteBuffer recv,
      ReceiveListener listener,
      int granule) {
    ByteBuffer[] in = null;
    int recvStart = 0;
    int expectedLength = 0;
    if (recv != null) {
      headerIn.clear();
      in = new ByteBuffer[] {headerIn, recv};
      recvStart = recv.position();
      expectedLength = recv.remaining();
    }
    int start = recvStart;
    int length = expectedLength;
    int[] delivered = {0};
    transfer(
        operation,
        kind,
        send,
        in,
        length,
        () -> {
          int arrived = recv.position() - start;
          int ready = recv.hasRemaining() ? arrived - arrived % granule : arrived;
          if (listener != null && ready > delivered[0]) {
            listener.received(delivered[0], ready);
            delivered[0] = ready;
          }
          return !recv.hasRemaining();
        });
  }

  /**
   * Sends {@code send}'s remaining bytes to the successor (null: nothing) while receiving {@code
   * recvLength} payload bytes from the predecessor into {@code window}, over and over from its
   * start: each read takes at most the window's capacity, and the listener hears of its bytes (in
   * whole granules) before the next read and before the next write. So a rank reduces the bytes it
   * received while they are still in the cache, and keeps its successor fed between reads instead
   * of reducing a whole chunk while the successor waits.
   *
   * @param window a buffer of at least {@code granule} bytes, overwritten
   * @throws PeerFailedException when a connection fails or nothing moves for the timeout
   */
  void exchangeThroughWindow(
      int operation,
      int kind,
      ByteBuffer send,
      int recvLength,
      ByteBuffer window,
      WindowListener listener,
      int granule) {
    if (window.capacity() < granule) {
      throw new IllegalArgumentException(
          "the window (" + window.capacity() + " bytes) holds less than one element");
    }
    headerIn.clear();
    window.clear().limit(Math.min(window.capacity(), recvLength));
    int[] windowStart = {0}; // the payload offset of the window's first byte
    transfer(
        operation,
        kind,
        send,
        new ByteBuffer[] {headerIn, window},
        recvLength,
        () -> {
          int inWindow = window.position();
          boolean all = windowStart[0] + inWindow == recvLength;
          int ready = all ? inWindow : inWindow - inWindow % granule;
          if (ready > 0) {
            listener.received(window, windowStart[0], ready);
            // The bytes of an element not yet whole (fewer than granule) move to the start.
            for (int i = ready; i < inWindow; i++) {
              window.put(i - ready, window.get(i));
            }
            windowStart[0] += ready;
            window
                .limit(Math.min(window.capacity(), recvLength - windowStart[0]))
                .position(inWindow - ready);
          }
          return windowStart[0] == recvLength;
        });
  }

  /** What a transfer does after each read: true when everything expected has arrived. */
  private interface AfterRead {
    boolean payloadDone();
  }

  private void transfer(
      int operation,
      int kind,
      ByteBuffer send,
      ByteBuffer[] in,
      int expectedLength,
      AfterRead afterRead) {
    ByteBuffer[] out = null;
    if (send != null) {
      headerOut.clear().putInt(operation).putInt(kind).putInt(send.remaining()).flip();
      out = new ByteBuffer[] {headerOut, send};
    }
    Future<?> sending = null;
    if (senderThread && out != null && send.remaining() >= SENDER_THREAD_BYTES) {
      ByteBuffer[] handedOver = out;
      CompletableFuture<Void> written =
          CompletableFuture.runAsync(() -> writeAll(handedOver), sender());
      // Once the failure is set, so that the calling thread, waiting to receive, sees it.
      written.whenComplete(
          (ok, failure) -> {
            if (failure != null) {
              selector.wakeup();
            }
          });
      sending = written;
      out = null;
    }
    try {
      receive(operation, kind, send, out, in, expectedLength, afterRead, sending);
    } catch (RuntimeException e) {
      if (sending != null) {
        // The group fails and closes its connections, which ends the sender thread's write.
        sending.cancel(false);
      }
      throw e;
    }
    if (sending != null) {
      awaitSent(sending);
    }
  }

  private void receive(
      int operation,
      int kind,
      ByteBuffer send,
      ByteBuffer[] out,
      ByteBuffer[] in,
      int expectedLength,
      AfterRead afterRead,
      Future<?> sending) {
    boolean headerChecked = false;
    long deadline = System.nanoTime() + timeoutNanos;
    while (out != null || in != null) {
      if (sending != null && sending.isDone()) {
        awaitSent(sending); // a failed send fails the exchange now, not at the receive's timeout
      }
      boolean progress = false;
      if (out != null) {
        try {
          progress |= next.write(out) > 0;
        } catch (IOException e) {
          throw new PeerFailedException(
              successor(), "lost the connection to rank " + successor() + ": " + e.getMessage(), e);
        }
        if (!send.hasRemaining() && !headerOut.hasRemaining()) {
          out = null;
        }
      }
      if (in != null) {
        long read;
        try {
          read = prev.read(in);
        } catch (IOException e) {
          throw new PeerFailedException(
              predecessor(),
              "lost the connection to rank " + predecessor() + ": " + e.getMessage(),
              e);
        }
        if (read < 0) {
          throw new PeerFailedException(
              predecessor(), "rank " + predecessor() + " closed its connection");
        }
        progress |= read > 0;
        if (!headerChecked && !headerIn.hasRemaining()) {
          checkHeader(operation, kind, expectedLength);
          headerChecked = true;
        }
        // Payload bytes land only after the whole header, so they are checked before they are used.
        if (headerChecked && afterRead.payloadDone()) {
          in = null;
        }
      }
      if (progress) {
        deadline = System.nanoTime() + timeoutNanos;
      } else if (out != null || in != null) {
        awaitReady(out != null, in != null, deadline);
      }
    }
  }

  /** The sender thread, started at the first large send. */
  private ExecutorService sender() {
    if (sender == null) {
      try {
        senderSelector = Selector.open();
        next.register(senderSelector, SelectionKey.OP_WRITE);
      } catch (IOException e) {
        throw new CollectiveException("opening the sender's selector failed", e);
      }
      sender =
          Executors.newSingleThreadExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "mpj-ring-sender-rank-" + rank);
                thread.setDaemon(true);
                return thread;
              });
    }
    return sender;
  }

  /** On the sender thread: writes {@code out} to the successor, waiting at most the timeout. */
  private void writeAll(ByteBuffer[] out) {
    long deadline = System.nanoTime() + timeoutNanos;
    while (out[0].hasRemaining() || out[1].hasRemaining()) {
      long written;
      try {
        written = next.write(out);
      } catch (IOException e) {
        throw new PeerFailedException(
            successor(), "lost the connection to rank " + successor() + ": " + e.getMessage(), e);
      }
      if (written > 0) {
        deadline = System.nanoTime() + timeoutNanos;
        continue;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new PeerFailedException(
            successor(),
            "rank "
                + successor()
                + " read nothing for "
                + String.format("%.1f s", timeoutNanos / 1e9));
      }
      try {
        senderSelector.select(Math.max(1, left / 1_000_000));
        senderSelector.selectedKeys().clear();
      } catch (IOException e) {
        throw new CollectiveException("waiting on the ring connection failed", e);
      } catch (ClosedSelectorException e) {
        throw new CollectiveException("the replica group was closed", e);
      }
    }
  }

  /** Waits for the sender thread's write; its failure is this rank's. */
  private static void awaitSent(Future<?> sending) {
    try {
      sending.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw new CollectiveException("sending failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CollectiveException("interrupted while sending", e);
    }
  }

  private void checkHeader(int operation, int kind, int expectedLength) {
    headerIn.flip();
    int theirOperation = headerIn.getInt();
    int theirKind = headerIn.getInt();
    int theirLength = headerIn.getInt();
    if (theirOperation != operation || theirKind != kind || theirLength != expectedLength) {
      throw new CollectiveException(
          "replicas are out of step: rank "
              + predecessor()
              + " sent operation #"
              + theirOperation
              + " (kind "
              + theirKind
              + ", "
              + theirLength
              + " bytes), rank "
              + rank
              + " expected operation #"
              + operation
              + " (kind "
              + kind
              + ", "
              + expectedLength
              + " bytes)");
    }
  }

  private void awaitReady(boolean writing, boolean reading, long deadline) {
    try {
      nextKey.interestOps(writing ? SelectionKey.OP_WRITE : 0);
      prevKey.interestOps(reading ? SelectionKey.OP_READ : 0);
    } catch (CancelledKeyException e) {
      throw new CollectiveException("the replica group was closed", e);
    }
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      String seconds = String.format("%.1f s", timeoutNanos / 1e9);
      if (reading) {
        throw new PeerFailedException(
            predecessor(), "rank " + predecessor() + " sent nothing for " + seconds);
      }
      throw new PeerFailedException(
          successor(), "rank " + successor() + " read nothing for " + seconds);
    }
    long start = System.nanoTime();
    try {
      selector.select(Math.max(1, left / 1_000_000));
      selector.selectedKeys().clear();
      waitedNanos += System.nanoTime() - start;
    } catch (IOException e) {
      throw new CollectiveException("waiting on the ring connections failed", e);
    } catch (ClosedSelectorException e) {
      throw new CollectiveException("the replica group was closed", e);
    }
  }

  @Override
  public void close() {
    closeQuietly(next);
    closeQuietly(prev);
    try {
      selector.close();
      if (senderSelector != null) {
        senderSelector.close();
      }
    } catch (IOException ignored) {
      // closing: nothing left to tell
    }
    if (sender != null) {
      sender.shutdownNow();
    }
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // closing: nothing left to tell
    }
  }
}
