package convunext.cli;

import convunext.backend.Backend;
import convunext.data.Normalization;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.train.Checkpoint;
import convunext.train.RunMeta;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A checkpoint loaded for inference: the model on a backend and the input normalisation. */
final class LoadedModel implements AutoCloseable {
    final ConvUNeXt model;
    final Normalization norm;

    private LoadedModel(ConvUNeXt model, Normalization norm) {
        this.model = model;
        this.norm = norm;
    }

    static LoadedModel open(Path weights, Backend be, Consumer<String> log) {
        if (weights == null)
            throw new UserError("no weights given: pass --weights FILE (a best.safetensors or last.safetensors written by "
                    + "`train`, or a PyTorch state_dict saved as safetensors — see README)", Main.BAD_INPUT);
        if (!Files.isRegularFile(weights)) throw new UserError("weights file not found: " + weights, Main.BAD_INPUT);
        SafeTensors.Contents c = SafeTensors.read(weights);
        ConvUNeXt.Config cfg = Checkpoint.configOf(c, weights);
        ConvUNeXt m = new ConvUNeXt(cfg, be, 0);
        try {
            Checkpoint.loadWeights(m, c, weights);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        Normalization n;
        if (c.metadata().containsKey("norm_mean")) {
            n = RunMeta.normalization(c.metadata(), weights);
        } else {
            // A plain PyTorch export has no statistics: use the reference's DRIVE values for RGB input.
            n = cfg.inChannels() == 3
                    ? new Normalization(new float[] {0.709f, 0.381f, 0.224f}, new float[] {0.127f, 0.079f, 0.043f})
                    : Normalization.unit(cfg.inChannels());
            log.accept("note: " + weights + " holds no normalisation statistics; using " + n);
        }
        log.accept("model " + Checkpoint.describe(cfg) + " from " + weights);
        return new LoadedModel(m, n);
    }

    @Override public void close() { model.close(); }
}
