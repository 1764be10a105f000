using System.Runtime.ExceptionServices;

namespace DeskSync.ZohoDesk;

/// <summary>Work that runs together and fails as one.</summary>
internal static class Together
{
    /// <summary>
    /// Waits for every task; if any failed, throws the first one's own error (in the tasks'
    /// order), not an AggregateException, and not a cancellation that the failure caused in the
    /// others: callers act on the kind of a ZohoApiException or a SinkException.
    /// </summary>
    public static async Task WhenAllAsync(IReadOnlyList<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks);
        }
        catch
        {
            if (FirstError(tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!)) is { } first)
            {
                ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }
    }

    /// <summary>The first error that is not a cancellation (which the first one usually caused in the others), else the first.</summary>
    public static Exception? FirstError(IEnumerable<Exception> errors)
    {
        var all = errors.ToList();
        return all.FirstOrDefault(e => e is not OperationCanceledException) ?? all.FirstOrDefault();
    }
}
