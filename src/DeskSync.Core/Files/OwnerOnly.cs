using System.Collections.Concurrent;

namespace DeskSync.Core.Files;

/// <summary>
/// Customer data and secrets are readable by their owner only: folders 0700, files 0600. Files
/// and folders made by someone else, or before DeskSync tightened them, are reported once each
/// rather than changed behind the owner's back.
/// </summary>
public static class OwnerOnly
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly ConcurrentDictionary<string, bool> Reported = new(StringComparer.Ordinal);

    /// <summary>Where reports of looser files go (the CLI points this at its log); stderr by default.</summary>
    public static Action<string> Warn { get; set; } = line => Console.Error.WriteLine("warning: " + line);

    /// <summary>Creates the folder (and its missing parents) owner-only; reports an existing one others can read.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        if (Directory.Exists(path))
        {
            Check(path, isFolder: true);
            return;
        }

        Directory.CreateDirectory(path, FolderMode);
    }

    /// <summary>Options for a new file that only its owner may read.</summary>
    public static FileStreamOptions NewFile(System.IO.FileMode mode, FileAccess access, FileShare share = FileShare.Read, int bufferSize = 4096)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode != System.IO.FileMode.Open && mode != System.IO.FileMode.Truncate)
        {
            options.UnixCreateMode = FileMode;
        }

        return options;
    }

    /// <summary>Creates an empty owner-only file if none exists (so that a library creating it later inherits the mode); reports a looser existing one.</summary>
    public static void Touch(string path)
    {
        if (File.Exists(path))
        {
            Check(path, isFolder: false);
            return;
        }

        try
        {
            using var _ = new FileStream(path, NewFile(System.IO.FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only folder or a full disk: whoever opens the file next says so in its own words.
        }
    }

    /// <summary>Writes a whole file owner-only, replacing it atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        using (var stream = new FileStream(temp, NewFile(System.IO.FileMode.CreateNew, FileAccess.Write)))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reports (once per path and process) a file or folder that others than its owner can use.</summary>
    public static void Check(string path, bool isFolder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
        }
        catch (IOException)
        {
            return;
        }

        if ((mode & Others) != 0 && Reported.TryAdd(Path.GetFullPath(path), true))
        {
            Warn($"{path} holds customer data but others can read it (mode {Octal(mode)}); `chmod {(isFolder ? "700" : "600")} {path}` makes it yours alone.");
        }
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
}
