namespace DeskSync.Core.Locking;

/// <summary>
/// One holding of a lease, as a fencing token: a later holder of the same lease (same
/// <paramref name="Epoch"/>, the lease store's identity) always has a greater <paramref name="Number"/>,
/// so a target that remembers the greatest term it was claimed with can refuse a holder that
/// lost the lease without knowing it yet.
/// </summary>
public sealed record LeaseTerm(string Lease, string Epoch, long Number, string Holder)
{
    /// <summary>Whether this term comes after <paramref name="other"/>: greater in the same store, or of another store (one made anew replaces the old).</summary>
    public bool Supersedes(string otherEpoch, long otherNumber) => Epoch != otherEpoch || Number >= otherNumber;

    public override string ToString() => $"term {Number} of lease {Lease} ({Holder})";
}
