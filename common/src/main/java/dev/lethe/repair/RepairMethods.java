package dev.lethe.repair;

import dev.lethe.LetheInputException;
import java.util.List;

/** The registry of repairs by configuration name ({@code lethe.repair.method}). */
public final class RepairMethods {
  private static final List<String> NAMES = List.of(EwcDeletion.NAME, NewtonRemoval.NAME, Finetune.NAME,
      FinetuneQuery.NAME, FinetuneCombined.NAME, PumaPatching.NAME, Align.NAME);

  private RepairMethods() {}

  /**
   * @throws LetheInputException for an unknown name, listing the known ones
   */
  public static RepairMethod byName(String name) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case EwcDeletion.NAME -> new EwcDeletion();
      case NewtonRemoval.NAME -> new NewtonRemoval();
      case Finetune.NAME -> new Finetune();
      case FinetuneQuery.NAME -> new FinetuneQuery();
      case FinetuneCombined.NAME -> new FinetuneCombined();
      case PumaPatching.NAME -> new PumaPatching();
      case Align.NAME -> new Align();
      default -> throw LetheInputException.of("lethe.repair.method: unknown repair method '%s' (known: %s)",
          name, String.join(", ", NAMES));
    };
  }

  /** The known names. */
  public static List<String> names() {
    return NAMES;
  }
}
