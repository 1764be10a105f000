using System.Text;

namespace DeskSync.Nats;

/// <summary>A data source's stream on a JetStream cluster.</summary>
public sealed record JetStreamJournalOptions
{
    /// <summary>The stream's name (letters, digits, '-' and '_').</summary>
    public required string Stream { get; init; }

    /// <summary>The one subject the stream holds.</summary>
    public required string Subject { get; init; }

    /// <summary>Servers that must hold a record before it is acknowledged to Zoho are a quorum of these.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>A delivery sent again within this window is stored once (whichever process received it).</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Largest record; the NATS servers' max_payload must allow it.</summary>
    public int MaxRecordBytes { get; init; } = 2 << 20;

    /// <summary>Bytes waiting for JetStream's acknowledgement past which appends are refused (the caller answers 503).</summary>
    public long MaxPendingBytes { get; init; } = 64L << 20;

    /// <summary>How often a follower with nothing to read asks the stream where it ends (records arrive pushed; this is the safety net).</summary>
    public TimeSpan RefreshEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Applied records are let go of in runs of at least this many, or at least this often.</summary>
    public long PurgeEvery { get; init; } = 1_000;

    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The stream and subject of a data source: its name made safe for both (other characters are written as _xx).</summary>
    public static JetStreamJournalOptions For(string source, string prefix = "desksync")
    {
        var safe = Safe(source);
        return new JetStreamJournalOptions
        {
            Stream = $"{prefix.ToUpperInvariant()}_{safe}",
            Subject = $"{prefix}.journal.{safe}",
        };
    }

    internal static string Safe(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                sb.Append(c);
            }
            else
            {
                foreach (var b in Encoding.UTF8.GetBytes(c.ToString()))
                {
                    sb.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return sb.ToString();
    }
}
