package convunext.cli;

import convunext.train.InferenceScale;
import picocli.CommandLine.Option;

/** {@code --scale}, shared by predict and evaluate (picocli mixin). */
final class ScaleOption {
    @Option(names = "--scale", paramLabel = "auto|native|F", defaultValue = "auto",
            description = "size the model runs each image at: auto = the checkpoint's training scale (images whose short side "
                    + "lies outside the range train resized to go to its centre, 561 px for 512 × 0.8–1.5), native, or a factor "
                    + "F > 0 (default: ${DEFAULT-VALUE})")
    String scale;

    /** The parsed value, or a one-line refusal naming the flag (exit code 2). */
    InferenceScale require() {
        try {
            return InferenceScale.parse(scale);
        } catch (IllegalArgumentException e) {
            throw new UserError("--scale " + e.getMessage(), Main.BAD_INPUT);
        }
    }
}
