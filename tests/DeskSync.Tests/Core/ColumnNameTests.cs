using DeskSync.Core;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Core;

[Trait(Lanes.Key, Lanes.Fast)]
public sealed class ColumnNameTests
{
    [Theory]
    [InlineData("modifiedTime", "modified_time")]
    [InlineData("associatedSLAId", "associated_sla_id")]
    [InlineData("i18NLabel", "i18n_label")]
    [InlineData("cf2Field", "cf2_field")]
    [InlineData("isSpam", "is_spam")]
    [InlineData("id", "id")]
    public void Zoho_field_names_become_snake_case_as_people_would_write_them(string field, string column) =>
        Assert.Equal(column, ColumnNames.Snake(field));
}
