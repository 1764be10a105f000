using System.Data.Common;
using System.Globalization;
using DeskSync.Core;
using DeskSync.Core.Locking;

namespace DeskSync.Sinks.Sql;

/// <summary>
/// Fencing: _desksync_fence holds, per lease, the latest term claimed in this target. After a claim,
/// every write transaction of this sink first reads that row (locked against a claim until it
/// commits) and commits only while it still holds this sink's term.
/// </summary>
public abstract partial class SqlSink : IFencedSink
{
    private LeaseTerm? _term;

    /// <summary>The term this sink writes under (null: none claimed, writes are not fenced).</summary>
    public LeaseTerm? Term => _term;

    public async Task ClaimAsync(LeaseTerm term, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        await GuardAsync(async () =>
        {
            await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync($"INSERT INTO {Table("_desksync_fence")} (lease, epoch, term, holder, claimed_at) VALUES (@p0, '', 0, '', @p1) ON CONFLICT (lease) DO NOTHING", tx, cancellationToken,
                term.Lease, ToDb(ColumnType.Timestamp, Time.GetUtcNow()));
            var (epoch, number, holder) = await ReadFenceAsync(term.Lease, exclusive: true, tx, cancellationToken);
            if (!term.Supersedes(epoch, number))
            {
                throw Refused(term, number, holder);
            }

            await ExecuteAsync($"UPDATE {Table("_desksync_fence")} SET epoch = @p1, term = @p2, holder = @p3, claimed_at = @p4 WHERE lease = @p0", tx, cancellationToken,
                term.Lease, term.Epoch, term.Number, term.Holder, ToDb(ColumnType.Timestamp, Time.GetUtcNow()));
            await tx.CommitAsync(cancellationToken);
            _term = term;
            return true;
        }, "could not record the lease's term", cancellationToken);
    }

    /// <summary>Inside a write transaction: refuses it when a later term was claimed since this sink's.</summary>
    private async Task CheckFenceAsync(DbTransaction tx, CancellationToken cancellationToken)
    {
        if (_term is not { } term)
        {
            return;
        }

        var (epoch, number, holder) = await ReadFenceAsync(term.Lease, exclusive: false, tx, cancellationToken);
        if (epoch != term.Epoch || number != term.Number)
        {
            throw Refused(term, number, holder);
        }
    }

    private async Task<(string Epoch, long Number, string Holder)> ReadFenceAsync(string lease, bool exclusive, DbTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = Command($"SELECT epoch, term, holder FROM {Table("_desksync_fence")} WHERE lease = @p0{RowLock(exclusive)}", tx, [lease]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), reader.GetString(2))
            : ("", 0, "");
    }

    /// <summary>The clause that locks a row read in a transaction until it commits (none where a write transaction locks the whole database).</summary>
    protected virtual string RowLock(bool exclusive) => "";

    private SinkException Refused(LeaseTerm term, long number, string holder) =>
        new($"{Describe()} was taken over by {(holder.Length > 0 ? holder : "another process")} (lease term {number.ToString(CultureInfo.InvariantCulture)}, later than this process's {term.Number.ToString(CultureInfo.InvariantCulture)}): this process lost the lease of {term.Lease} and wrote nothing more.")
        {
            Fenced = true,
        };
}
