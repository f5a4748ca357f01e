package dev.mpj.cli;

import dev.mpj.local.OperatorProcess;
import dev.mpj.operator.MpjOperator;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.util.concurrent.CountDownLatch;

/**
 * The operator process of {@code mpj local --operator-process} ({@link OperatorProcess}): the same
 * operator and settings as {@code mpj local}'s in-process one, against the API server whose URL is
 * the only argument. Runs until killed or until its parent ({@code mpj local}, whose JVM holds the
 * API server) ends; SIGTERM closes the operator first.
 */
public final class LocalOperatorMain {
  private LocalOperatorMain() {}

  public static void main(String[] args) throws InterruptedException {
    CommonPool.share();
    if (args.length != 1) {
      System.err.println("usage: LocalOperatorMain API_SERVER_URL");
      System.exit(MpjCommand.EXIT_BAD_INPUT);
    }
    LocalCommand.quietLogs();
    // The API server lives in mpj local, the parent: if that ends, even by SIGKILL, so does this;
    // watched from the start, as an operator starting against a server that is gone never starts.
    ProcessHandle.current()
        .parent()
        .ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(args[0])
            .withNamespace("default")
            .withTrustCerts(true)
            .withHttp2Disable(true)
            .build();
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(config)
            .withHttpClientFactory(new JdkHttpClientFactory())
            .build();
    MpjOperator operator = MpjOperator.start(client, LocalCommand.operatorSettings());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.close();
                  client.close();
                  stopped.countDown();
                },
                "mpj-local-operator-shutdown"));
    System.out.println("mpj local operator: running against " + args[0]);
    System.out.flush();
    stopped.await();
  }
}
