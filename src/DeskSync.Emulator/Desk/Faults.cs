namespace DeskSync.Emulator.Desk;

/// <summary>
/// Faults on demand for the Desk API: latency per call, a rate of 500s, a rate of dropped
/// connections, and a queue of scripted answers (e.g. three 429s in a row) served first.
/// Rates draw from a seeded generator so that a run can be repeated.
/// </summary>
public sealed class Faults(int seed)
{
    private readonly Lock _gate = new();
    private readonly Random _random = new(seed);
    private readonly Queue<ScriptedFault> _script = new();

    public TimeSpan Latency { get; set; }

    public double ErrorRate { get; set; }

    public double DropRate { get; set; }

    public void Enqueue(ScriptedFault fault, int times = 1)
    {
        lock (_gate)
        {
            for (var i = 0; i < times; i++)
            {
                _script.Enqueue(fault);
            }
        }
    }

    /// <summary>Scripted answers not served yet.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _script.Count;
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _script.Clear();
            Latency = TimeSpan.Zero;
            ErrorRate = 0;
            DropRate = 0;
        }
    }

    internal FaultDecision Next()
    {
        lock (_gate)
        {
            if (_script.TryDequeue(out var scripted))
            {
                return new FaultDecision(scripted.Kind, scripted);
            }

            if (DropRate > 0 && _random.NextDouble() < DropRate)
            {
                return new FaultDecision(FaultKind.Drop, null);
            }

            if (ErrorRate > 0 && _random.NextDouble() < ErrorRate)
            {
                return new FaultDecision(FaultKind.ServerError, null);
            }

            return new FaultDecision(FaultKind.None, null);
        }
    }
}

public enum FaultKind
{
    None,
    ServerError,
    Drop,
    TooManyRequests,
    ThresholdExceeded,
    Status,

    /// <summary>A 200 whose connection is cut halfway through the body (headers and Content-Length sent in full).</summary>
    CutBody,

    /// <summary>A 200 that sends half its body and then nothing more until the client gives up.</summary>
    StallBody,

    /// <summary>A 200 whose headers say Content-Encoding: gzip over a body that is not gzip (as a broken proxy might send).</summary>
    GarbledBody,

    /// <summary>A 200 in Content-Encoding: deflate (zlib-wrapped, as RFC 9110 says), which the client did not ask for: a server or proxy that ignores Accept-Encoding.</summary>
    DeflatedBody,

    /// <summary>The same in raw deflate, with no zlib header, as some servers send "deflate".</summary>
    RawDeflatedBody,

    /// <summary>A 200 that says Content-Encoding: zstd, an encoding the client did not ask for (the body is plain).</summary>
    UnknownEncoding,

    /// <summary>A 200 that says Content-Encoding: identity over its plain body: no encoding at all, said out loud.</summary>
    IdentityEncoding,
}

/// <summary>A scripted answer: for <see cref="FaultKind.Status"/>, the status and error code to send.</summary>
public sealed record ScriptedFault(FaultKind Kind, int Status = 500, string? ErrorCode = null, int? RetryAfterSeconds = null);

internal readonly record struct FaultDecision(FaultKind Kind, ScriptedFault? Scripted);
