using DeskSync.Core;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Webhooks;

/// <summary>Snapshot + stream into SQLite (<see cref="RealtimeRound"/>); the PostgreSQL cases run beside them in their own class.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class RealtimeSyncSqliteTests() : RealtimeSyncTests("sqlite", null);

/// <summary>Snapshot + stream into PostgreSQL (<see cref="RealtimeRound"/>).</summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class RealtimeSyncPostgresTests(PostgresServer postgres) : RealtimeSyncTests("postgres", postgres), IClassFixture<PostgresServer>;

/// <summary>A thousand random changes during and after the full load, in both modes of one target.</summary>
public abstract class RealtimeSyncTests(string target, PostgresServer? postgres) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-rt-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData(SinkMode.Flat)]
    [InlineData(SinkMode.Document)]
    public Task A_thousand_random_changes_during_and_after_the_full_load_leave_the_target_equal_to_the_emulator(SinkMode mode) =>
        RealtimeRound.RunAsync(target, mode, _dir, postgres);
}
