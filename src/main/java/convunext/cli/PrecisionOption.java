package convunext.cli;

import convunext.backend.Precision;
import picocli.CommandLine.Option;

/** {@code --precision fp32|tf32|bf16}: the matrix-product precision of the CUDA backend (a picocli mixin). */
final class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P",
            description = "fp32, tf32 or bf16: operands of the GEMMs and convolutions on the CUDA backend "
                    + "(float accumulation, master weights and AdamW; every other op stays fp32). The CPU backends "
                    + "compute in fp32 only. Default: ${DEFAULT-VALUE}")
    String value;

    Precision get() { return Precision.parse(value); }
}
