using System.Text.Json;

namespace DeskSync.Cli;

/// <summary>
/// Operator output on standard error: plain lines, or with --log json one JSON object per line
/// ({"ts","level","event","message",…}) for log collectors. Never carries secrets: callers pass
/// redacted values only.
/// </summary>
internal static class OutputLog
{
    /// <summary>Text as people read it ("+", "&lt;", non-ASCII letters unescaped); still valid JSON.</summary>
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static bool Json { get; set; }

    public static void Write(string level, string @event, string message, IReadOnlyDictionary<string, object?>? fields = null)
    {
        var prefix = level is "warning" or "error" ? level + ": " : "";
        if (!Json)
        {
            Console.Error.WriteLine(prefix.Length > 0 && !message.StartsWith(prefix, StringComparison.Ordinal) ? prefix + message : message);
            return;
        }

        var line = new Dictionary<string, object?>
        {
            ["ts"] = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["level"] = level,
            ["event"] = @event,
            ["message"] = prefix.Length > 0 && message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message,
        };
        foreach (var (k, v) in fields ?? new Dictionary<string, object?>())
        {
            line[k] = v;
        }

        Console.Error.WriteLine(JsonSerializer.Serialize(line, Readable));
    }

    public static void Info(string @event, string message, IReadOnlyDictionary<string, object?>? fields = null) => Write("info", @event, message, fields);

    public static void Warn(string @event, string message) => Write("warning", @event, message);

    /// <summary>A reader's line ("warning: …" or news such as a column added): its level from its prefix, its event from its first words.</summary>
    public static void Report(string line) => Report(line, null);

    /// <summary>A data source's line when one process serves several: "[source] " before it, or a "source" field in JSON.</summary>
    public static void Report(string line, string? source)
    {
        var warning = line.StartsWith("warning:", StringComparison.Ordinal);
        var head = line.Split(':')[0];
        var @event = warning ? "warning" : head.Length <= 40 ? head.Replace(' ', '_') : "report";
        if (source is null)
        {
            Write(warning ? "warning" : "info", @event, line);
        }
        else if (Json)
        {
            Write(warning ? "warning" : "info", @event, line, new Dictionary<string, object?> { ["source"] = source });
        }
        else
        {
            Console.Error.WriteLine($"[{source}] {line}");
        }
    }
}
