using System.Globalization;
using System.Text;
using DeskSync.Core;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Core;

/// <summary>The hand-written ISO-8601 reader and writer agree with .NET's own parsing and formatting; field paths read the first of repeated names.</summary>
[Trait(Lanes.Key, Lanes.Fast)]
public sealed class ValueConverterTests
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    [Fact]
    public void A_field_path_takes_the_first_occurrence_of_a_repeated_name_at_every_level()
    {
        // JsonElement.TryGetProperty would answer the last; the columns of a flat table take the first.
        using var doc = System.Text.Json.JsonDocument.Parse("""{"a":{"b":{"c":1,"c":2},"b":{"c":3}},"a":{"b":{"c":4}}}""");

        Assert.True(ValueConverter.TryGet(doc.RootElement, ["a", "b", "c"], out var value));
        Assert.Equal(1, value.GetInt32());
        Assert.False(ValueConverter.TryGet(doc.RootElement, ["a", "x"], out _));
    }

    [Fact]
    public void Iso_writes_what_the_framework_format_writes()
    {
        var random = new Random(20261128);
        DateTimeOffset[] edges = [DateTimeOffset.MinValue, DateTimeOffset.MaxValue, new(2024, 2, 29, 23, 59, 59, 999, TimeSpan.Zero), new(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(5.5)), new(999, 1, 2, 3, 4, 5, 6, TimeSpan.Zero)];
        foreach (var t in edges.Concat(Enumerable.Range(0, 20_000).Select(_ => new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), TimeSpan.Zero))))
        {
            Assert.Equal(t.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture), ValueConverter.Iso(t));
        }
    }

    [Fact]
    public void TryParseIso_accepts_exactly_what_the_framework_parses_in_that_form()
    {
        var random = new Random(7);
        var texts = new List<string> { "2024-02-29T00:00:00.000Z", "2023-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z", "2026-1-01T00:00:00.000Z", "2026-01-01 00:00:00.000Z", "2026-01-01T00:00:00.000+", "+026-01-01T00:00:00.000Z", "2026-01-01T00:00:00,000Z" };
        for (var i = 0; i < 20_000; i++)
        {
            // Digits anywhere, values out of range half the time.
            var chars = $"{random.Next(0, 10000):0000}-{random.Next(0, 14):00}-{random.Next(0, 33):00}T{random.Next(0, 26):00}:{random.Next(0, 62):00}:{random.Next(0, 62):00}.{random.Next(0, 1000):000}Z".ToCharArray();
            if (random.Next(10) == 0)
            {
                chars[random.Next(chars.Length)] = "0123456789-:TZ.x "[random.Next(17)];
            }

            texts.Add(new string(chars));
        }

        foreach (var text in texts)
        {
            var framework = DateTimeOffset.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expected);
            var ours = ValueConverter.TryParseIso(Encoding.UTF8.GetBytes(text), out var actual);
            Assert.True(framework == ours, $"{text}: framework {framework}, ours {ours}");
            if (ours)
            {
                Assert.Equal(expected, actual);
                Assert.Equal(text, ValueConverter.Iso(actual));
                Assert.Equal(expected, ValueConverter.ParseTime(text));
            }
        }
    }
}
