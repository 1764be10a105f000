using System.Diagnostics;

namespace DeskSync.Tests.Support;

/// <summary>
/// A real, small file system (a tmpfs of a few MB mounted for one test) that can be filled to the
/// last byte and freed again: a full disk without filling the machine's. Mounting needs root.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly List<string> _fillers = [];

    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static bool CanMount => Environment.UserName == "root" && File.Exists("/bin/mount");

    public static SmallDisk Mount(int megabytes)
    {
        var path = Directory.CreateTempSubdirectory("desksync-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Writes filler files until the disk refuses another byte.</summary>
    public void Fill()
    {
        var buffer = new byte[64 << 10];
        var filler = System.IO.Path.Combine(Path, $"filler-{_fillers.Count}");
        _fillers.Add(filler);
        using var stream = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                stream.Write(buffer);
            }
        }
        catch (IOException)
        {
            // full: now single bytes, so that not even a page is left
        }

        try
        {
            while (true)
            {
                stream.Write(buffer, 0, 1);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Deletes the fillers.</summary>
    public void Free()
    {
        foreach (var f in _fillers)
        {
            File.Delete(f);
        }

        _fillers.Clear();
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        Directory.Delete(Path, recursive: true);
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {process.StandardError.ReadToEnd()}");
        }
    }
}

/// <summary>A fact that needs root (it mounts a small tmpfs); skipped, and says so, elsewhere.</summary>
public sealed class SmallDiskFactAttribute : FactAttribute
{
    public SmallDiskFactAttribute()
    {
        if (!SmallDisk.CanMount)
        {
            Skip = "needs root to mount a small tmpfs (CI runs as root)";
        }
    }
}
