using System.Globalization;
using DeskSync.Core.Files;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Where what DeskSync cannot use is kept, with the reason, for the operator to read: bodies the
/// receiver refused, and events the applier could not apply. Owner-only; the newest
/// <see cref="MaxFiles"/> are kept.
/// </summary>
public sealed class Quarantine(string directory, int maxFiles = 1_000, TimeProvider? time = null)
{
    private long _count;

    public string Directory { get; } = directory;

    public int MaxFiles { get; } = maxFiles;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Keeps the bytes and why; returns the file's path. Throws IOException when the disk refuses.</summary>
    public string Keep(ReadOnlySpan<byte> body, string kind, string reason)
    {
        OwnerOnly.CreateFolder(Directory);
        var name = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fffffff", CultureInfo.InvariantCulture) + "-" + kind + "-" + Interlocked.Increment(ref _count).ToString(CultureInfo.InvariantCulture);
        var path = Path.Combine(Directory, name + ".body");
        using (var file = new FileStream(path, OwnerOnly.NewFile(FileMode.Create, FileAccess.Write)))
        {
            file.Write(body);
        }

        OwnerOnly.WriteAllText(Path.ChangeExtension(path, ".reason"), reason + "\n");
        var files = System.IO.Directory.GetFiles(Directory, "*.body").Order(StringComparer.Ordinal).ToList();
        foreach (var old in files.Take(Math.Max(0, files.Count - MaxFiles)))
        {
            File.Delete(old);
            File.Delete(Path.ChangeExtension(old, ".reason"));
        }

        return path;
    }
}
