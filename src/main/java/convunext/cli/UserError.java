package convunext.cli;

/** An error to report as one line with a specific exit code. */
public final class UserError extends RuntimeException {
    final int exitCode;

    public UserError(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }
}
