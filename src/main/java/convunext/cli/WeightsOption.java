package convunext.cli;

import convunext.train.InferenceModel;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --weights}, shared by predict and evaluate (picocli mixin). */
final class WeightsOption {
    @Option(names = "--weights", paramLabel = "FILE",
            description = {"checkpoint (.safetensors): best.safetensors or last.safetensors written by train,",
                    "or a PyTorch state_dict saved as safetensors (see README)"})
    Path weights;

    /**
     * The file read and checked through ({@link InferenceModel#check}: every tensor, before a device
     * is opened), or a one-line refusal saying what to pass or what is wrong. Its notes go to stdout.
     */
    InferenceModel.Weights require() {
        if (weights == null)
            throw new UserError("no weights given: pass --weights FILE (a best.safetensors or last.safetensors written by "
                    + "`train`, or a PyTorch state_dict saved as safetensors — see README)", Main.BAD_INPUT);
        if (Files.isDirectory(weights))
            throw new UserError("--weights " + weights + " is a folder: pass the checkpoint file in it (best.safetensors or "
                    + "last.safetensors)", Main.BAD_INPUT);
        if (!Files.isRegularFile(weights)) throw new UserError("weights file not found: " + weights, Main.BAD_INPUT);
        return InferenceModel.check(weights, System.out::println);
    }
}
