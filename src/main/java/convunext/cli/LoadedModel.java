package convunext.cli;

import convunext.backend.Backend;
import convunext.train.InferenceModel;
import java.nio.file.Path;
import java.util.function.Consumer;

/** The commands' way to load a checkpoint for inference: {@link InferenceModel} plus the CLI's advice. */
final class LoadedModel {
    private LoadedModel() {}

    /** Refuses a missing --weights with what to pass. */
    static void requireWeights(Path weights) {
        if (weights == null)
            throw new UserError("no weights given: pass --weights FILE (a best.safetensors or last.safetensors written by "
                    + "`train`, or a PyTorch state_dict saved as safetensors — see README)", Main.BAD_INPUT);
    }

    static InferenceModel open(Path weights, Backend be, int tile, int overlap, boolean flipTta, Consumer<String> log) {
        requireWeights(weights);
        return InferenceModel.open(weights, be, tile, overlap, flipTta, log);
    }
}
