namespace DeskSync.Core.Locking;

/// <summary>
/// Which process applies a data source when several receive it: exactly one holds the lease at a
/// time; the others wait, and one takes over within the lease's time to live when the holder dies.
/// </summary>
public interface ISourceLease : IAsyncDisposable
{
    /// <summary>Waits until this process holds the lease; the token it returns is cancelled when the lease is lost.</summary>
    Task<CancellationToken> AcquireAsync(CancellationToken cancellationToken);

    /// <summary>Lets go of the lease, so that another process takes over at once.</summary>
    Task ReleaseAsync();

    /// <summary>Whether this process holds the lease now.</summary>
    bool Held { get; }

    /// <summary>Who holds it, as last seen (null: nobody, or not known yet).</summary>
    string? Holder { get; }

    /// <summary>This process's term while it holds the lease (its fencing token), null otherwise.</summary>
    LeaseTerm? Term { get; }

    /// <summary>Why this process last lost it (null while held, or never lost).</summary>
    string? LostBecause { get; }
}
