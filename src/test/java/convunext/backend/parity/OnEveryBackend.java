package convunext.backend.parity;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A parity case run once per backend of {@link BackendParity#backends()}; the method takes the
 * backend's name ("cpu", "emulated", "emulated-shuffled:5eed1", "cuda") as its one argument.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@MethodSource("convunext.backend.parity.BackendParity#backends")
public @interface OnEveryBackend {}
