package dev.mpj.cli;

import picocli.CommandLine;

/** The version of the build, from the jar's manifest. */
final class MpjVersion implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = MpjVersion.class.getPackage().getImplementationVersion();
    return new String[] {"mpj " + (version != null ? version : "(development build)")};
  }
}
