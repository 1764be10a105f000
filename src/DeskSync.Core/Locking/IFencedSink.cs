namespace DeskSync.Core.Locking;

/// <summary>
/// A target that takes a lease's term (a fencing token): once a term is claimed, each write of
/// this sink commits only while no later term was claimed in the target, so that a process that
/// lost its lease (paused, cut off, or wrongly granted by the lease store) cannot write after the
/// next holder started. Refusals are a <see cref="SinkException"/> with <see cref="SinkException.Fenced"/>.
/// </summary>
public interface IFencedSink
{
    /// <summary>Records <paramref name="term"/> in the target (refused when a later term of the lease was claimed there); this sink's writes are checked against it from then on.</summary>
    Task ClaimAsync(LeaseTerm term, CancellationToken cancellationToken);
}

/// <summary>Claims a lease's term in whatever target a sink (decorated or not) writes to.</summary>
public static class Fence
{
    /// <summary>Claims <paramref name="term"/> in the target of <paramref name="sink"/> when it takes lease terms (true); false: it cannot fence writes.</summary>
    public static async Task<bool> ClaimAsync(ISink sink, LeaseTerm term, CancellationToken cancellationToken)
    {
        while (sink is DelegatingSink delegating)
        {
            sink = delegating.Inner;
        }

        if (sink is not IFencedSink fenced)
        {
            return false;
        }

        await fenced.ClaimAsync(term, cancellationToken);
        return true;
    }
}
