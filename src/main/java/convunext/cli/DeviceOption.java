package convunext.cli;

import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.backend.all.Backends;
import convunext.backend.cuda.Devices;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --device} and {@code --precision}, shared by every command that runs the model (picocli
 * mixin): one name list, one default.
 */
final class DeviceOption {
    static final List<String> NAMES = List.of("auto", "cpu", "cuda", "emulated", "ref");

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEVICE", converter = Name.class,
            description = {"auto (the GPU when a driver and GPU work, else the CPU, saying why), cpu, cuda (GPU 0),",
                    "cuda:N (GPU N), emulated (our CUDA kernels on the CPU emulator) or ref (the float64 oracle, slow)",
                    "(default: ${DEFAULT-VALUE})"})
    String device = "auto";

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", converter = PrecisionName.class,
            description = {"fp32, tf32 or bf16: operands of the GEMMs and convolutions on the CUDA backend (float",
                    "accumulation, master weights and AdamW; every other op stays fp32); the CPU backends compute",
                    "in fp32 only (default: ${DEFAULT-VALUE})"})
    Precision precision = Precision.FP32;

    /** Opens the backend; a device that cannot start is {@link Backends.Unavailable} (exit 3). */
    Backend open(PrintStream log) { return Backends.open(device, precision, log); }

    /** Refuses an unknown precision while parsing, before any work. */
    static final class PrecisionName implements ITypeConverter<Precision> {
        @Override public Precision convert(String v) {
            try {
                return Precision.parse(v);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Refuses an unknown name while parsing, before any work. */
    static final class Name implements ITypeConverter<String> {
        @Override public String convert(String v) {
            String n = v.toLowerCase(Locale.ROOT);
            if (n.startsWith("cuda:")) {   // GPU N, as Backends opens it; a GPU that is not there is exit 3 when opened
                try {
                    Devices.cudaOrdinal(n);
                } catch (IllegalArgumentException e) {
                    throw new TypeConversionException(e.getMessage());
                }
                return n;
            }
            if (!NAMES.contains(n))
                throw new TypeConversionException("unknown device '" + v + "' (expected " + String.join(", ", NAMES) + " or cuda:N)");
            return n;
        }
    }
}
