using Microsoft.Data.Sqlite;

namespace DeskSync.Sinks.Sqlite;

/// <summary>The WAL's upkeep: checkpoints on a second connection while the writer commits, and the WAL started over before it grows without bound.</summary>
public sealed partial class SqliteSink
{
    /// <summary>Past this size the writer checkpoints the WAL itself and starts it over, whatever the checkpointer does.</summary>
    internal long WalLimit { get; init; } = 256L << 20;

    /// <summary>Past this many bytes of frames, the checkpointer asks the writer to start the WAL over.</summary>
    internal long WalRestartBytes { get; init; } = DefaultWalRestartBytes;

    internal const long DefaultWalRestartBytes = 64L << 20;

    /// <summary>How long the background checkpointer lets commits gather before it checkpoints them.</summary>
    internal TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>WAL restarts the writer made at the checkpointer's request (cheap), and at its own limit (a long stall) or a small disk's (the WAL emptied, or tried).</summary>
    internal (int Requested, int Forced) WalRestarts => (_requestedRestarts, _forcedRestarts);

    private readonly SemaphoreSlim _wakeCheckpointer = new(0, 1);
    private readonly SemaphoreSlim _restarted = new(0, 1);
    private readonly SemaphoreSlim _checkpointing = new(1, 1); // a background round, or the writer emptying the WAL
    private CancellationTokenSource? _stopCheckpointer;
    private Task? _checkpointer;
    private volatile bool _restartWanted;
    private int _requestedRestarts;
    private int _forcedRestarts;
    private long _truncateAgainAt;

    /// <summary>
    /// WAL checkpoints (copying committed pages into the database file, then two fsyncs) run on a
    /// second connection on another thread, not inside the writer's commits. While the writer
    /// keeps committing, the checkpointer runs one passive checkpoint after the other, so that
    /// the frames left to copy are only those of its last round. A WAL only starts over when a
    /// write begins with every frame copied, which a writer that never pauses never gives it: so
    /// once the WAL holds 64 MB of frames, the checkpointer, at the end of a round, asks the writer
    /// to start it over; the writer does (between two commits: a short RESTART checkpoint of the
    /// last round's frames) and the WAL file is cut back to 64 MB. The writer also checkpoints
    /// itself if the WAL file reaches 256 MB anyway. Durability is unchanged: a commit is in the WAL.
    /// </summary>
    protected override void Committed()
    {
        if (_checkpointer is null)
        {
            _stopCheckpointer = new CancellationTokenSource();
            _checkpointer = Task.Run(() => CheckpointLoopAsync(_stopCheckpointer.Token));
        }

        if (_restartWanted)
        {
            // RESTART also waits for readers to leave the WAL: a reader that stays (a long query
            // in another program) must not hold the writer for the usual 10 s; if it stays, the WAL
            // is not started over this time, and the checkpointer asks again later.
            _restartWanted = false;
            CheckpointBriefly((SqliteConnection)Connection, "RESTART");
            _requestedRestarts++;
            try
            {
                _restarted.Release();
            }
            catch (SemaphoreFullException)
            {
                // the checkpointer stopped waiting and has not asked again
            }

            return;
        }

        if (WalFileBytes() is not { } wal)
        {
            return;
        }

        if (wal >= WalLimit)
        {
            Checkpoint((SqliteConnection)Connection, "RESTART");
            _forcedRestarts++;
        }
        else if (wal >= _truncateAgainAt && wal >= WalRoom(wal) / 2)
        {
            // A small or nearly full disk (see WalRoom): the WAL file is emptied, not only started
            // over, so that its bytes go back to the disk and its size says again what it holds.
            // The background checkpointer's own round is waited out first, so that only a reader in
            // another program can make this fail; that reader gets 100 ms, not every commit's
            // time: the WAL is tried again once it has grown by a quarter.
            _checkpointing.Wait();
            try
            {
                CheckpointBriefly((SqliteConnection)Connection, "TRUNCATE");
            }
            finally
            {
                _checkpointing.Release();
            }

            _forcedRestarts++;
            _truncateAgainAt = WalFileBytes() >= wal ? wal + (wal / 4) : 0;
        }
        else if (_wakeCheckpointer.CurrentCount == 0)
        {
            try
            {
                _wakeCheckpointer.Release();
            }
            catch (SemaphoreFullException)
            {
                // already woken
            }
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken stop)
    {
        SqliteConnection? connection = null;
        try
        {
            long copied = 0;
            long? restartedAt = null;
            var busy = false;
            while (true)
            {
                if (!busy)
                {
                    await _wakeCheckpointer.WaitAsync(stop);
                    await Task.Delay(CheckpointInterval, stop); // one checkpoint (two fsyncs) for the commits of a quarter second
                }

                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
                        connection.Open();
                    }
                }
                catch (SqliteException)
                {
                    connection?.Dispose(); // a full disk, say: the writer reports its own errors, and its next commit wakes this loop again
                    connection = null;
                    busy = false;
                    continue;
                }

                (long Frames, long Copied)? round;
                _checkpointing.Wait(stop);
                try
                {
                    round = Checkpoint(connection, "PASSIVE");
                }
                finally
                {
                    _checkpointing.Release();
                }

                if (round is not { } result)
                {
                    connection.Dispose();
                    connection = null;
                    busy = false;
                    continue;
                }

                // Frames copied this round (fewer in the WAL than before: it started over). A
                // writer that gave this round a megabyte or more is kept pace with; a trickle of
                // small commits shares one checkpoint a quarter second.
                var fresh = result.Copied >= copied ? result.Copied - copied : result.Copied;
                copied = result.Copied;
                busy = fresh * _frameBytes >= 1 << 20;
                if (restartedAt is { } frames)
                {
                    // A restart takes effect with the writer's next commit; until then the WAL looks as
                    // full as before. One that did not take (a reader held the WAL) is asked again
                    // once the WAL has grown as much again.
                    restartedAt = result.Frames < frames || result.Frames >= 2 * frames ? null : frames;
                }
                else if (result.Frames * _frameBytes >= Math.Min(WalRestartBytes, WalRoom(WalFileBytes() ?? 0) / 4) && result.Copied == result.Frames)
                {
                    _restartWanted = true;
                    if (await _restarted.WaitAsync(TimeSpan.FromSeconds(1), stop))
                    {
                        restartedAt = result.Frames;
                    }
                    else
                    {
                        _restartWanted = false; // the writer has stopped; its next commits will ask again
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>
    /// The space the WAL could take: its own bytes and what is free on its file system. On a
    /// small or nearly full disk the WAL is started over at a quarter of it (the checkpointer's
    /// request) or emptied at half (the writer's own limit) rather than at 64 and 256 MB: a WAL that took the
    /// last free byte would leave none for the checkpoint to grow the database file into, and
    /// could then never be copied or started over — every write would fail for good, though the
    /// data would fit. On any ordinary disk the fixed sizes come first.
    /// </summary>
    private long WalRoom(long wal)
    {
        try
        {
            return wal + new DriveInfo(System.IO.Path.GetDirectoryName(Path)!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue; // no figure: the fixed sizes decide
        }
    }

    /// <summary>The WAL file's size, or null when it cannot be read (not there yet).</summary>
    private long? WalFileBytes()
    {
        try
        {
            return new FileInfo(Path + "-wal").Length;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// A checkpoint that waits at most 100 ms for readers (a long query in another program) instead
    /// of the writer's usual 10 s: what it could not do this time is done later.
    /// </summary>
    private static void CheckpointBriefly(SqliteConnection connection, string mode)
    {
        Pragma(connection, "busy_timeout=100");
        Checkpoint(connection, mode);
        Pragma(connection, "busy_timeout=" + BusyTimeoutMs);
    }

    /// <summary>Each WAL frame's header, before its page.</summary>
    private const long WalFrameHeaderBytes = 24;

    /// <summary>A WAL frame of this file: its page size (read at open, before any commit) and the frame's header.</summary>
    private long _frameBytes;

    /// <summary>The bytes of a WAL frame the checkpointer counts with (the file's page size and a frame header).</summary>
    internal long WalFrameBytes => _frameBytes;

    /// <summary>
    /// A WAL checkpoint: the frames in the WAL and how many of them are now copied into the
    /// database, or null when SQLite refused it (it is upkeep: the data is safe in the WAL either way).
    /// </summary>
    private static (long Frames, long Copied)? Checkpoint(SqliteConnection connection, string mode)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA wal_checkpoint({mode})";
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(1), reader.GetInt64(2)) : (0, 0);
        }
        catch (SqliteException)
        {
            return null;
        }
    }
}
