package convunext.backend.parity;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** As {@link OnEveryBackend}, over the CUDA backends only (emulated, emulated-shuffled, cuda). */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@MethodSource("convunext.backend.parity.BackendParity#deviceBackends")
public @interface OnEveryDevice {}
