package dev.lethe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class FuturesTest {
  @Test
  void joinReturnsTheResultAndRethrowsTheWorksOwnException() throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      assertThat(Futures.join(ex.submit(() -> 42), "the answer")).isEqualTo(42);
      LetheInputException bad = LetheInputException.of("data/train.parquet: duplicate id %d", 7);
      Future<Object> failed = ex.submit(() -> {
        throw bad;
      });
      assertThatThrownBy(() -> Futures.join(failed, "the table")).isSameAs(bad);
      Future<Object> checked = ex.submit(() -> {
        throw new IOException("disk");
      });
      assertThatThrownBy(() -> Futures.join(checked, "the table")).isInstanceOf(IllegalStateException.class)
          .hasCauseInstanceOf(IOException.class);
    } finally {
      ex.shutdownNow();
    }
  }

  @Test
  void awaitQuietlyWaitsForTheEndIgnoresTheFailureAndKeepsAnInterrupt() throws Exception {
    CompletableFuture<Object> f = new CompletableFuture<>();
    Thread completer = new Thread(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      f.completeExceptionally(new IllegalStateException("ignored"));
    });
    completer.start();
    Thread.currentThread().interrupt();
    Futures.awaitQuietly(f);
    boolean interrupted = Thread.interrupted(); // clears the flag for the other tests
    assertThat(interrupted).isTrue();
    assertThat(f).isCompletedExceptionally(); // it returned only once the work had ended
    completer.join();
  }

  @Test
  void backgroundRunsOnItsOwnNamedThreadAndJoinRethrowsItsFailure() {
    try (Futures.Background<String> b = Futures.Background.start("lethe-test-background",
        () -> Thread.currentThread().getName())) {
      assertThat(b.join("the name")).isEqualTo("lethe-test-background");
    }
    LetheInputException bad = LetheInputException.of("data/train.parquet: the training table is empty");
    try (Futures.Background<Object> b = Futures.Background.start("lethe-test-background", () -> {
      throw bad;
    })) {
      assertThatThrownBy(() -> b.join("the table")).isSameAs(bad);
    }
  }

  @Test
  void closingWaitsForTheWorkWhenTheCallerFails() {
    java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    assertThatThrownBy(() -> {
      try (Futures.Background<Object> b = Futures.Background.start("lethe-test-background", () -> {
        try {
          Thread.sleep(300);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ended.set(true);
        throw new IllegalStateException("the work's own failure, not reported");
      })) {
        throw new IllegalArgumentException("the caller's failure");
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessage("the caller's failure").hasNoSuppressedExceptions();
    // close() returned only once the work had ended
    assertThat(ended).isTrue();
  }
}
