using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("DeskSync.Tests.Support.LongFirst", "DeskSync.Tests")]

namespace DeskSync.Tests.Support;

/// <summary>
/// Marks a test class (or a collection definition) whose tests together take long: it starts
/// among the first, so that it is not left running alone at the end of the run on a small machine.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLongAttribute : Attribute;

/// <summary>
/// Orders the test collections for the parallel run: those marked <see cref="RunsLongAttribute"/>
/// first, the rest after them, each group in xunit's own order.
/// </summary>
public sealed class LongFirst : ITestCollectionOrderer
{
    private const string ImplicitPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var all = new DefaultTestCollectionOrderer().OrderTestCollections(testCollections).ToList();
        return all.Where(RunsLong).Concat(all.Where(c => !RunsLong(c)));
    }

    private static bool RunsLong(ITestCollection collection)
    {
        var type = collection.CollectionDefinition
                   ?? (collection.DisplayName.StartsWith(ImplicitPrefix, StringComparison.Ordinal)
                       ? collection.TestAssembly.Assembly.GetType(collection.DisplayName[ImplicitPrefix.Length..])
                       : null);
        return type?.GetCustomAttributes(typeof(RunsLongAttribute)).Any() == true;
    }
}
