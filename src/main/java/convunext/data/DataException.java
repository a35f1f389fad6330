package convunext.data;

/**
 * A problem with input data (unreadable image, missing or mismatched mask, bad mask values).
 * Messages always name the offending file so the user can fix the data set.
 */
public class DataException extends RuntimeException {
    public DataException(String message) { super(message); }
    public DataException(String message, Throwable cause) { super(message, cause); }
}
