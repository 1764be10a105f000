using System.Security.Cryptography;
using System.Text;

namespace DeskSync.Core;

/// <summary>
/// Safe column names from untrusted Zoho names (custom-field API names and labels): lower case
/// ASCII letters, digits and underscores, starting with a letter or underscore, at most 63
/// bytes (PostgreSQL's limit), unique case-insensitively within a table. Sinks quote them as
/// well, so a name can never break out of an identifier.
/// </summary>
public sealed class ColumnNames
{
    public const int MaxLength = 63;

    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public ColumnNames(IEnumerable<string>? reserved = null)
    {
        foreach (var name in reserved ?? [])
        {
            _used.Add(name);
        }
    }

    /// <summary>A unique safe name for <paramref name="wanted"/>; the same input twice gets two names.</summary>
    public string Claim(string wanted)
    {
        var baseName = Sanitize(wanted);
        var name = baseName;
        for (var n = 2; !_used.Add(name); n++)
        {
            var suffix = "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            name = baseName[..Math.Min(baseName.Length, MaxLength - suffix.Length)] + suffix;
        }

        return name;
    }

    public static string Sanitize(string wanted)
    {
        var sb = new StringBuilder(wanted.Length);
        foreach (var ch in wanted.Normalize(NormalizationForm.FormKD))
        {
            if (char.IsAsciiLetterOrDigit(ch))
            {
                sb.Append(char.ToLowerInvariant(ch));
            }
            else if (char.IsUpper(ch) && sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
            else if (sb.Length > 0 && sb[^1] != '_' && System.Globalization.CharUnicodeInfo.GetUnicodeCategory(ch) != System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                sb.Append('_');
            }
        }

        var name = sb.ToString().Trim('_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            // Nothing usable (a label in another script) or a leading digit: keep a stable trace of the original.
            name = "f_" + (name.Length == 0 ? Hash(wanted) : name);
        }

        if (name.Length > MaxLength)
        {
            var hash = "_" + Hash(wanted);
            name = name[..(MaxLength - hash.Length)] + hash;
        }

        return name;
    }

    /// <summary>camelCase to snake_case: modifiedTime → modified_time, associatedSLAId → associated_sla_id, i18NLabel → i18n_label.</summary>
    public static string Snake(string camel)
    {
        var sb = new StringBuilder(camel.Length + 4);
        for (var i = 0; i < camel.Length; i++)
        {
            var ch = camel[i];
            if (char.IsAsciiLetterUpper(ch) && i > 0)
            {
                var prev = camel[i - 1];
                var nextIsLower = i + 1 < camel.Length && char.IsAsciiLetterLower(camel[i + 1]);
                // After a digit a capital starts a word only when a lower-case letter follows ("cf2Field"), not inside an abbreviation ("i18N").
                if (char.IsAsciiLetterLower(prev) || (char.IsAsciiDigit(prev) && nextIsLower) || (char.IsAsciiLetterUpper(prev) && nextIsLower))
                {
                    sb.Append('_');
                }
            }

            sb.Append(char.ToLowerInvariant(ch));
        }

        return sb.ToString();
    }

    private static string Hash(string text) => System.Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];
}
