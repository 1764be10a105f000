using DeskSync.Core.Locking;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Core;

[Trait(Lanes.Key, Lanes.Integration)]
public sealed class DataSourceLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_second_writer_is_refused_with_the_holder_named_and_the_lock_is_free_once_released()
    {
        var path = DataSourceLock.PathOf(_dir, "default");
        using (DataSourceLock.Acquire(path, "default", "run"))
        {
            var busy = Assert.Throws<DataSourceBusyException>(() => DataSourceLock.Acquire(path, "default", "sync"));
            Assert.Contains("`desksync run`", busy.Message, StringComparison.Ordinal);
            Assert.Contains($"PID {Environment.ProcessId}", busy.Message, StringComparison.Ordinal);
            Assert.Contains("changed nothing", busy.Message, StringComparison.Ordinal);

            // Another data source of the same settings is not held by it.
            using var other = DataSourceLock.Acquire(DataSourceLock.PathOf(_dir, "eu"), "eu", "sync");
        }

        using var again = DataSourceLock.Acquire(path, "default", "sync");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
