package dev.mpj.trainer.collective;

import dev.mpj.trainer.collective.Handshake.Purpose;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forms the ring. Rank 0 listens on the coordinator port; every other rank connects, both prove the
 * job token, and the rank says where its own ring listener is. When all have come, rank 0 sends
 * each the ring's addresses; every rank connects to its successor and accepts its predecessor
 * (again proving the token both ways), reports ready, and rank 0 answers go once the whole ring is
 * up. Connections that fail the proof are dropped and logged; the rendezvous keeps waiting for the
 * right peer until its timeout.
 */
final class Rendezvous {

  private static final Logger LOG = LoggerFactory.getLogger(Rendezvous.class);
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** The least time the ring gets to connect once the coordinator has sent its addresses. */
  private static final Duration RING_FORMING = Duration.ofSeconds(10);

  private static final long POLL_MILLIS = 200;
  private static final byte READY = 'R';
  private static final byte GO = 'G';

  /** The formed ring, and the address this rank's ring listener was bound to. */
  record Formed(RingLinks links, InetSocketAddress ringAddress) {}

  private record Endpoint(String host, int port) {}

  private record Registration(Socket socket, Endpoint ring) {}

  private final RendezvousConfig config;
  private final Handshake handshake;
  private long deadline;

  private Rendezvous(RendezvousConfig config) {
    this.config = config;
    this.handshake = new Handshake(config.jobToken(), config.worldSize(), config.attempt());
    this.deadline = System.nanoTime() + config.rendezvousTimeout().toNanos();
  }

  static Formed form(RendezvousConfig config) {
    Rendezvous rendezvous = new Rendezvous(config);
    try {
      return config.rank() == 0 ? rendezvous.coordinate() : rendezvous.join();
    } catch (IOException e) {
      throw new RendezvousException(
          "rank " + config.rank() + " could not join the ring: " + e.getMessage(), e);
    }
  }

  /**
   * The peers that proved the token on the coordinator port, by rank; closed once the ring is
   * known.
   */
  private static final class Registry {
    private final Map<Integer, Registration> byRank = new HashMap<>();
    private boolean closed;

    synchronized boolean register(int rank, Registration registration) {
      if (closed) {
        return false;
      }
      Registration previous = byRank.put(rank, registration);
      if (previous != null) {
        LOG.warn(
            "rank 0: rank {} joined again from {}; the earlier connection is dropped",
            rank,
            registration.socket.getRemoteSocketAddress());
        closeQuietly(previous.socket);
      }
      return true;
    }

    synchronized TreeSet<Integer> missing(int worldSize) {
      TreeSet<Integer> missing = new TreeSet<>();
      for (int rank = 1; rank < worldSize; rank++) {
        if (!byRank.containsKey(rank)) {
          missing.add(rank);
        }
      }
      return missing;
    }

    synchronized Map<Integer, Registration> close() {
      closed = true;
      return new HashMap<>(byRank);
    }

    synchronized void closeSockets() {
      closed = true;
      byRank.values().forEach(registration -> closeQuietly(registration.socket));
    }
  }

  private Formed coordinate() throws IOException {
    int worldSize = config.worldSize();
    Registry registry = new Registry();
    try (ServerSocket coordinator = new ServerSocket();
        ServerSocketChannel ringListener = ServerSocketChannel.open()) {
      coordinator.setReuseAddress(true);
      coordinator.bind(new InetSocketAddress(config.coordinatorPort()), 64);
      ringListener.bind(new InetSocketAddress(config.ringPort()));
      LOG.info("rank 0 coordinates {} replicas on port {}", worldSize, config.coordinatorPort());
      try {
        for (TreeSet<Integer> missing = registry.missing(worldSize);
            !missing.isEmpty();
            missing = registry.missing(worldSize)) {
          coordinator.setSoTimeout(
              (int)
                  Math.max(1, Math.min(POLL_MILLIS, millisLeft("ranks " + missing + " to join"))));
          Socket socket;
          try {
            socket = coordinator.accept();
          } catch (SocketTimeoutException e) {
            continue;
          }
          // Each greeting in its own thread: a silent or slow stranger cannot hold up the right
          // peers.
          Thread greeter = new Thread(() -> greet(socket, registry), "mpj-rendezvous-greeter");
          greeter.setDaemon(true);
          greeter.start();
        }
        Map<Integer, Registration> peers = registry.close();
        int ringPort = ((InetSocketAddress) ringListener.getLocalAddress()).getPort();
        for (int rank = 1; rank < worldSize; rank++) {
          Registration peer = peers.get(rank);
          List<Endpoint> table = new ArrayList<>();
          // Rank 0's ring listener is on every interface: give each peer the address it reached us
          // at.
          table.add(new Endpoint(peer.socket.getLocalAddress().getHostAddress(), ringPort));
          for (int other = 1; other < worldSize; other++) {
            table.add(peers.get(other).ring);
          }
          sendTable(peer.socket, table);
        }
        RingLinks links = formRing(ringListener, peers.get(1).ring);
        try {
          for (int rank = 1; rank < worldSize; rank++) {
            Socket socket = peers.get(rank).socket;
            socket.setSoTimeout(
                (int) Math.max(1, millisLeft("rank " + rank + " to connect its ring link")));
            if (new DataInputStream(socket.getInputStream()).readByte() != READY) {
              throw new IOException("rank " + rank + " did not report ready");
            }
          }
          for (int rank = 1; rank < worldSize; rank++) {
            Socket socket = peers.get(rank).socket;
            socket.getOutputStream().write(GO);
            socket.getOutputStream().flush();
          }
        } catch (IOException | RuntimeException e) {
          links.close();
          throw e;
        }
        LOG.info("rank 0: the ring of {} replicas is up", worldSize);
        return new Formed(links, (InetSocketAddress) ringListener.getLocalAddress());
      } finally {
        registry.closeSockets();
      }
    }
  }

  /**
   * Authenticates one connection to the coordinator port and records where its ring listener is.
   */
  private void greet(Socket socket, Registry registry) {
    try {
      socket.setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
      int rank = handshake.asServer(socket, Purpose.COORDINATOR, 0, -1);
      DataInputStream in = new DataInputStream(socket.getInputStream());
      Endpoint ring = new Endpoint(in.readUTF(), in.readInt());
      if (!registry.register(rank, new Registration(socket, ring))) {
        LOG.warn(
            "rank 0: rank {} from {} came after the ring was formed; dropped",
            rank,
            socket.getRemoteSocketAddress());
        closeQuietly(socket);
        return;
      }
      LOG.info(
          "rank 0: rank {} joined from {}, ring listener {}:{}",
          rank,
          socket.getRemoteSocketAddress(),
          ring.host,
          ring.port);
    } catch (IOException e) {
      LOG.warn(
          "rank 0: refused a connection from {}: {}", socket.getRemoteSocketAddress(), describe(e));
      closeQuietly(socket);
    }
  }

  private Formed join() throws IOException {
    Socket coordinator = connectToCoordinator();
    try {
      InetAddress local = coordinator.getLocalAddress();
      try (ServerSocketChannel ringListener = ServerSocketChannel.open()) {
        // Listen where the coordinator was reached from: that interface is the one peers can route
        // to.
        ringListener.bind(new InetSocketAddress(local, config.ringPort()));
        int ringPort = ((InetSocketAddress) ringListener.getLocalAddress()).getPort();
        DataOutputStream out = new DataOutputStream(coordinator.getOutputStream());
        out.writeUTF(local.getHostAddress());
        out.writeInt(ringPort);
        out.flush();
        LOG.info(
            "rank {}: joined the coordinator; ring listener {}:{}",
            config.rank(),
            local.getHostAddress(),
            ringPort);

        coordinator.setSoTimeout((int) Math.max(1, millisLeft("the coordinator to send the ring")));
        DataInputStream in = new DataInputStream(coordinator.getInputStream());
        int size = in.readInt();
        if (size != config.worldSize()) {
          throw new IOException("the coordinator sent a ring of " + size + " replicas");
        }
        List<Endpoint> table = new ArrayList<>();
        for (int rank = 0; rank < size; rank++) {
          table.add(new Endpoint(in.readUTF(), in.readInt()));
        }
        RingLinks links = formRing(ringListener, table.get((config.rank() + 1) % size));
        try {
          coordinator.getOutputStream().write(READY);
          coordinator.getOutputStream().flush();
          coordinator.setSoTimeout((int) Math.max(1, millisLeft("the whole ring to connect")));
          if (in.readByte() != GO) {
            throw new IOException("the coordinator did not say go");
          }
        } catch (IOException | RuntimeException e) {
          links.close();
          throw e;
        }
        LOG.info("rank {}: the ring of {} replicas is up", config.rank(), size);
        return new Formed(links, new InetSocketAddress(local, ringPort));
      }
    } finally {
      closeQuietly(coordinator);
    }
  }

  private Socket connectToCoordinator() throws IOException {
    while (true) {
      Socket socket = new Socket();
      try {
        InetSocketAddress address =
            new InetSocketAddress(config.coordinatorHost(), config.coordinatorPort());
        if (address.isUnresolved()) {
          throw new UnknownHostException(config.coordinatorHost());
        }
        socket.connect(address, (int) Math.max(1, Math.min(5_000, millisLeft("the coordinator"))));
        socket.setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
        handshake.asClient(socket, Purpose.COORDINATOR, config.rank(), 0);
        return socket;
      } catch (Handshake.AuthenticationException e) {
        LOG.warn(
            "rank {}: the coordinator at {}:{} failed authentication: {}",
            config.rank(),
            config.coordinatorHost(),
            config.coordinatorPort(),
            e.getMessage());
        closeQuietly(socket);
      } catch (ConnectException
          | NoRouteToHostException
          | UnknownHostException
          | SocketTimeoutException e) {
        closeQuietly(socket); // not up yet: pods start at different times
      } catch (IOException e) {
        LOG.warn(
            "rank {}: connecting to the coordinator failed: {}", config.rank(), e.getMessage());
        closeQuietly(socket);
      }
      pause("the coordinator at " + config.coordinatorHost() + ":" + config.coordinatorPort());
    }
  }

  private static void sendTable(Socket socket, List<Endpoint> table) throws IOException {
    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
    out.writeInt(table.size());
    for (Endpoint endpoint : table) {
      out.writeUTF(endpoint.host);
      out.writeInt(endpoint.port);
    }
    out.flush();
  }

  private RingLinks formRing(ServerSocketChannel listener, Endpoint successor) throws IOException {
    // Every peer was alive a moment ago: a ring that does not form soon will not form at all, and a
    // peer that died in between should fail the gang quickly, not at the end of the rendezvous
    // timeout.
    long ringDeadline =
        System.nanoTime() + Math.max(config.operationTimeout().toNanos(), RING_FORMING.toNanos());
    deadline = Math.min(deadline, ringDeadline);
    int worldSize = config.worldSize();
    int predecessorRank = (config.rank() + worldSize - 1) % worldSize;
    CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
    Thread acceptor =
        new Thread(
            () -> {
              try {
                accepted.complete(acceptPredecessor(listener, predecessorRank));
              } catch (Throwable e) {
                accepted.completeExceptionally(e);
              }
            },
            "mpj-ring-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
    SocketChannel next = null;
    SocketChannel prev = null;
    boolean formed = false;
    try {
      next = connectToSuccessor(successor);
      prev =
          accepted.get(
              Math.max(1, millisLeft("rank " + predecessorRank + " to connect")) + POLL_MILLIS,
              TimeUnit.MILLISECONDS);
      RingLinks links =
          new RingLinks(config.rank(), worldSize, next, prev, config.operationTimeout());
      formed = true;
      return links;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (TimeoutException e) {
      throw new RendezvousException(
          "rank " + predecessorRank + " did not connect to rank " + config.rank() + " in time");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RendezvousException("interrupted while forming the ring");
    } finally {
      if (!formed) {
        closeQuietly(listener); // ends the acceptor
        closeQuietly(next);
        accepted.thenAccept(Rendezvous::closeQuietly);
      }
    }
  }

  private SocketChannel acceptPredecessor(ServerSocketChannel listener, int predecessorRank)
      throws IOException {
    while (true) {
      listener
          .socket()
          .setSoTimeout(
              (int)
                  Math.max(
                      1,
                      Math.min(
                          POLL_MILLIS,
                          millisLeft("rank " + predecessorRank + " to connect its ring link"))));
      Socket socket;
      try {
        socket = listener.socket().accept();
      } catch (SocketTimeoutException e) {
        continue;
      }
      try {
        socket.setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
        handshake.asServer(socket, Purpose.RING, config.rank(), predecessorRank);
        return socket.getChannel();
      } catch (IOException e) {
        LOG.warn(
            "rank {}: refused a ring connection from {}: {}",
            config.rank(),
            socket.getRemoteSocketAddress(),
            describe(e));
        closeQuietly(socket);
      }
    }
  }

  private SocketChannel connectToSuccessor(Endpoint successor) throws IOException {
    int successorRank = (config.rank() + 1) % config.worldSize();
    while (true) {
      SocketChannel channel = SocketChannel.open();
      try {
        channel
            .socket()
            .connect(
                new InetSocketAddress(successor.host, successor.port),
                (int) Math.max(1, Math.min(5_000, millisLeft("rank " + successorRank))));
        channel.socket().setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
        handshake.asClient(channel.socket(), Purpose.RING, config.rank(), successorRank);
        return channel;
      } catch (Handshake.AuthenticationException e) {
        LOG.warn(
            "rank {}: the ring peer at {}:{} failed authentication: {}",
            config.rank(),
            successor.host,
            successor.port,
            e.getMessage());
        closeQuietly(channel);
      } catch (IOException e) {
        closeQuietly(channel);
      }
      pause("rank " + successorRank + " at " + successor.host + ":" + successor.port);
    }
  }

  private void pause(String waitingFor) {
    try {
      Thread.sleep(Math.max(1, Math.min(POLL_MILLIS, millisLeft(waitingFor))));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RendezvousException("interrupted while waiting for " + waitingFor);
    }
  }

  /** Milliseconds left before the rendezvous deadline. */
  private long millisLeft(String waitingFor) {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new RendezvousException("rank " + config.rank() + " gave up waiting for " + waitingFor);
    }
    return left;
  }

  private static String describe(IOException e) {
    if (e instanceof EOFException) {
      return "it hung up before proving the job token";
    }
    if (e instanceof SocketTimeoutException) {
      return "it did not complete the handshake in " + HANDSHAKE_TIMEOUT.toSeconds() + " s";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception ignored) {
      // closing: nothing left to tell
    }
  }
}
