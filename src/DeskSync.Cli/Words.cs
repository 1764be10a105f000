using System.Globalization;
using DeskSync.ZohoDesk.Snapshot;

namespace DeskSync.Cli;

/// <summary>Counts and states as people write them: "1 call", "2 calls", "already loaded".</summary>
internal static class Words
{
    public static string Count(long n, string singular, string? plural = null) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? singular : plural ?? singular + "s");

    public static string Status(TableLoadStatus status) => status switch
    {
        TableLoadStatus.Loaded => "loaded",
        TableLoadStatus.AlreadyLoaded => "already loaded",
        TableLoadStatus.Updated => "updated",
        TableLoadStatus.Skipped => "skipped",
        _ => "failed",
    };
}
