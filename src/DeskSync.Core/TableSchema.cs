namespace DeskSync.Core;

/// <summary>The SQL-side type of a column; each sink maps it to its own type.</summary>
public enum ColumnType
{
    Text,
    Integer,
    Decimal,
    Boolean,
    Timestamp,
    Date,
    Json,
}

/// <summary>
/// One column of a target table. <see cref="Name"/> is the safe, unique column name;
/// <see cref="Source"/> is the property path of the value in the Zoho record (["modifiedTime"],
/// ["cf", "cf_order"]); <see cref="Label"/> is Zoho's label for custom fields.
/// </summary>
public sealed record ColumnSchema(string Name, ColumnType Type, IReadOnlyList<string> Source, bool IsCustomField = false, string? Label = null, string? ZohoType = null)
{
    public string SourcePath => string.Join('.', Source);
}

/// <summary>A table as DeskSync writes it: the primary key is always "id".</summary>
public sealed record TableSchema(string Name, IReadOnlyList<ColumnSchema> Columns)
{
    public const string KeyColumn = "id";

    /// <summary>A child table's column holding its parent's id (ticket_threads.ticket_id): indexed, present in every mode, and what a <see cref="ParentScope"/> delete matches.</summary>
    public ColumnSchema? ParentColumn { get; init; }

    /// <summary>The column holding the record's modifiedTime, when the table has one: last writer wins by it.</summary>
    public ColumnSchema? ModifiedTimeColumn => Columns.FirstOrDefault(c => c.Source is ["modifiedTime"]);

    public ColumnSchema? CreatedTimeColumn => Columns.FirstOrDefault(c => c.Source is ["createdTime"]);
}

/// <summary>How records land in the target.</summary>
public enum SinkMode
{
    /// <summary>Key columns plus the whole record as JSON (JSONB in PostgreSQL).</summary>
    Document,

    /// <summary>A typed column per field, custom fields included, plus the raw record.</summary>
    Flat,
}
