package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.validation.InvalidJobException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerContractTest {

  @Test
  void aWholeNumberVariableIsReadTrimmedAndAnUnsetOrBlankOneIsEmpty() {
    Map<String, String> env = Map.of(TrainerContract.ENV_RANK, " 3 ", "BLANK", " ");
    assertThat(TrainerContract.intVariable(env, TrainerContract.ENV_RANK)).hasValue(3);
    assertThat(TrainerContract.intVariable(env, TrainerContract.ENV_WORLD_SIZE)).isEmpty();
    assertThat(TrainerContract.intVariable(env, "BLANK")).isEmpty();
  }

  @Test
  void aMalformedVariableIsABadConfigNamingIt() {
    Map<String, String> env = Map.of(TrainerContract.ENV_WORLD_SIZE, "two");
    assertThatThrownBy(() -> TrainerContract.intVariable(env, TrainerContract.ENV_WORLD_SIZE))
        .isInstanceOf(InvalidJobException.class)
        .hasMessage("MPJ_WORLD_SIZE: is not a whole number: two");
  }
}
