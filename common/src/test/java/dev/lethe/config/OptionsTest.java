package dev.lethe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.FeatureScale;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A record's validation error reaches the user as the config key's error, whatever the record calls its field. */
class OptionsTest {

  private static void assertKeyError(String override, Function<LetheConfig, ?> build, String message) {
    LetheConfig c = LetheConfig.load(List.of(), List.of(override));
    assertThatThrownBy(() -> build.apply(c)).isInstanceOf(LetheInputException.class).hasMessage(message);
  }

  @Test
  void fieldNamesBecomeKeys() {
    assertKeyError("identify.batch-size=0", Options::influence,
        "config key 'identify.batch-size': must be >= 1, got 0");
    assertKeyError("identify.linear.cg.max-iterations=0", Options::influence,
        "config key 'identify.linear.cg.max-iterations': must be >= 1, got 0");
    assertKeyError("identify.ewc.validation-fraction=1", Options::identifyEwc,
        "config key 'identify.ewc.validation-fraction': must be in [0, 1), got 1.0");
    assertKeyError("train.max-epochs=0", Options::train, "config key 'train.max-epochs': must be > 0, got 0");
  }

  @Test
  void messagesThatStartWithAKeyKeepIt() {
    assertKeyError("noise.label-flip.rate=1.5", Options::noise,
        "config key 'noise.label-flip.rate': must be in [0, 1], got 1.5");
    assertKeyError("data.num-classes=1", Options::model, "config key 'data.num-classes': must be >= 2, got 1");
  }

  @Test
  void featureScale() {
    assertThat(Options.featureScale(LetheConfig.defaults())).isEqualTo(FeatureScale.unitRange());
    assertKeyError("data.feature-range=[0]", Options::featureScale,
        "config key 'data.feature-range': expected [min, max], got [0.0]");
    assertKeyError("data.rescale=255", Options::featureScale,
        "config key 'data.rescale': unknown value '255' (expected none or from-0-255)");
  }

  @Test
  void otherMessagesNameTheSection() {
    assertThat(Options.keyMessage("identify", java.util.Map.of(), "ewc options must be given"))
        .isEqualTo("config identify: ewc options must be given");
  }
}
