using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.OpenApi;

/// <summary>
/// Real answers are not always what the schema declares: Zoho's own example answers (in the same
/// OpenAPI files) carry times as epoch-millisecond numbers where ISO strings are declared,
/// counts and ids as numbers where digit strings are, booleans as "true"/"false", and leave out keys
/// that have no value. One record in
/// <c>oneIn</c> (chosen by its id, so the same record is answered the same way by every endpoint
/// and in webhook payloads) is answered that way, so that every reader meets it.
/// </summary>
public static class AnswerSpread
{
    public static bool Applies(JsonObject record, int oneIn) =>
        oneIn > 0 && record["id"] is JsonValue v && v.TryGetValue<string>(out var id) && id.Length > 0
        && Stable(id) % oneIn == 0;

    /// <summary>The record's own values in the spread form; properties the schema requires stay, even when null.</summary>
    public static void Apply(JsonObject shaped, IReadOnlySet<string> required)
    {
        foreach (var (name, value) in shaped.ToList())
        {
            switch (value)
            {
                case null when !required.Contains(name):
                    shaped.Remove(name);
                    break;
                case JsonValue v when v.TryGetValue<string>(out var text) && name.EndsWith("Time", StringComparison.Ordinal)
                    && DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t):
                    shaped[name] = t.ToUnixTimeMilliseconds();
                    break;
                case JsonValue v when v.TryGetValue<string>(out var digits) && name.EndsWith("Count", StringComparison.Ordinal)
                    && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count):
                    shaped[name] = count;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var digits) && IsId(name)
                    && digits.Length is > 0 and < 19 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number):
                    shaped[name] = number;
                    break;
                case JsonValue v when v.TryGetValue<bool>(out var flag):
                    shaped[name] = flag ? "true" : "false";
                    break;
            }
        }
    }

    /// <summary>An id or a reference to one ("id", "departmentId", "ownerId" …), which Zoho's examples also write as numbers.</summary>
    private static bool IsId(string name) => name == "id" || name.EndsWith("Id", StringComparison.Ordinal);

    /// <summary>A hash of the id that does not change between runs (string.GetHashCode does).</summary>
    private static long Stable(string id)
    {
        long h = 17;
        foreach (var c in id)
        {
            h = ((h * 31) + c) % 1_000_000_007;
        }

        return h;
    }
}
