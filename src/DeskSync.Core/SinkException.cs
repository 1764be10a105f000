namespace DeskSync.Core;

/// <summary>
/// A target refused what DeskSync asked of it; the message says what to do. Retryable failures
/// (a server that went away, a full or read-only disk) may succeed later without any change to
/// DeskSync's settings, so a long-running sync waits and tries again; the others (a table that
/// holds another mode's data, a file with other columns) need the operator.
/// </summary>
public sealed class SinkException(string message, Exception? inner = null, bool retryable = false) : Exception(message, inner)
{
    public bool Retryable { get; } = retryable;

    /// <summary>The target does not exist yet (opened for reading only): nothing was loaded into it.</summary>
    public bool Missing { get; init; }

    /// <summary>Refused because another process claimed the target with a later lease term (see Locking.IFencedSink): this process must stop writing.</summary>
    public bool Fenced { get; init; }
}
