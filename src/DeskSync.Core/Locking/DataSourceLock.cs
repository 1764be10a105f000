using System.Globalization;
using System.Text.Json;
using DeskSync.Core.Files;

namespace DeskSync.Core.Locking;

/// <summary>Another process holds the data source: it is named, and nothing was changed.</summary>
public sealed class DataSourceBusyException(string message) : Exception(message);

/// <summary>
/// One writer per data source: an exclusive lock on a file (flock on Unix, a sharing lock on
/// Windows) that the operating system releases when the process ends, however it ends — so a
/// killed process never leaves the source locked, as a PID file would. Who holds it (command,
/// PID, since when) is written beside it, for the message the next process shows.
/// </summary>
public sealed class DataSourceLock : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _holderPath;

    private DataSourceLock(FileStream @lock, string holderPath)
    {
        _lock = @lock;
        _holderPath = holderPath;
    }

    public static string PathOf(string stateFolder, string source) => Path.Combine(stateFolder, "locks", source + ".lock");

    /// <summary>Takes the lock or throws <see cref="DataSourceBusyException"/> naming the holder.</summary>
    public static DataSourceLock Acquire(string lockPath, string source, string command, TimeProvider? time = null)
    {
        OwnerOnly.CreateFolder(Path.GetDirectoryName(lockPath)!);
        var holderPath = lockPath + ".holder";
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, OwnerOnly.NewFile(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            throw new DataSourceBusyException(BusyMessage(source, command, holderPath));
        }

        var holder = new Holder(command, Environment.ProcessId, (time ?? TimeProvider.System).GetUtcNow(), Environment.MachineName);
        OwnerOnly.WriteAllText(holderPath, JsonSerializer.Serialize(holder));
        return new DataSourceLock(stream, holderPath);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_holderPath);
        }
        catch (IOException)
        {
        }

        _lock.Dispose();
    }

    private static string BusyMessage(string source, string command, string holderPath)
    {
        var who = "another desksync process";
        try
        {
            if (JsonSerializer.Deserialize<Holder>(File.ReadAllText(holderPath)) is { } h)
            {
                who = string.Create(CultureInfo.InvariantCulture, $"`desksync {h.Command}` (PID {h.Pid} on {h.Host}, since {h.Since:yyyy-MM-dd HH:mm:ss} UTC)");
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // The holder has not written its name yet, or wrote it in a format this version does not read.
        }

        return $"Data source '{source}' is in use by {who}: `desksync {command}` would write the same journal, state and target, so it changed nothing. Stop that process first, or wait for it to finish.";
    }

    private sealed record Holder(string Command, int Pid, DateTimeOffset Since, string Host);
}
