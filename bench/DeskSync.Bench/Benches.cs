namespace DeskSync.Bench;

/// <summary>The benches: each prints its figures with the command that reproduces them.</summary>
internal sealed partial class Benches(string work, CallTimer calls)
{
}
