using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Support;

/// <summary>A full load's progress that cancels the load once a table has written some rows.</summary>
internal sealed class KillAfter(DeskStream table, long rows, CancellationTokenSource kill) : IFullLoadProgress
{
    public void TableStarted(DeskStream t)
    {
    }

    public void RowsWritten(DeskStream t, long rowsSoFar, long? total, long calls, long credits)
    {
        if (t == table && rowsSoFar >= rows)
        {
            kill.Cancel();
        }
    }

    public void TableFinished(TableLoadResult result)
    {
    }

    public void Warning(string message)
    {
    }
}
