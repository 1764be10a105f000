using System.Globalization;
using DeskSync.Cli.Config;

namespace DeskSync.Cli;

/// <summary>"90s", "5m", "2h", "1d", or a TimeSpan ("00:05:00").</summary>
internal static class Durations
{
    public static TimeSpan Parse(string text, string option)
    {
        var t = text.Trim();
        if (t.Length > 1 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            var unit = char.ToLowerInvariant(t[^1]);
            TimeSpan? span = unit switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (span is { } s)
            {
                return s;
            }
        }

        return TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var ts) && ts > TimeSpan.Zero
            ? ts
            : throw new ConfigException($"{option} takes a duration such as 90s, 5m, 2h or 1d, not '{text}'.");
    }
}
