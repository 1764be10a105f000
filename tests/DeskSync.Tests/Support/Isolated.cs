namespace DeskSync.Tests.Support;

/// <summary>
/// Tests that measure the whole process (managed memory, say) run alone: no other test class runs
/// beside them, so what they measure is their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Isolated
{
    public const string Name = "isolated (runs alone)";
}
