package troupe.hazelcast.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;

/**
 * Split-brain merge for actor records (`troupe.actor.*`): when a cut-off
 * member (the smaller side, `merging`) rejoins, each of its records is
 * compared with the larger side's (`existing`) by the 8-byte version every
 * record starts with, and the higher version stays. An equal version keeps
 * the larger side's bytes, so a record can never go back to an older version
 * and never flip between two writes of the same version.
 *
 * None of Hazelcast's built-in policies reads the value: `LatestUpdate`
 * trusts wall clocks, `HigherHits` counts reads, `PutIfAbsent` and
 * `PassThrough` pick a side whatever it holds.
 *
 * A record the larger side does not have at all is taken from the merging
 * side: records are never deleted, so "absent" means the larger side never
 * saw it, and dropping it could lose the only copy.
 */
public final class VersionMergePolicy implements SplitBrainMergePolicy<Object, MergingValue<Object>, Object> {
  @Override
  public Object merge(MergingValue<Object> merging, MergingValue<Object> existing) {
    if (existing == null) return merging.getRawValue();
    long theirs = versionOf(merging.getDeserializedValue());
    long ours = versionOf(existing.getDeserializedValue());
    return theirs > ours ? merging.getRawValue() : existing.getRawValue();
  }

  private static long versionOf(Object value) {
    return value instanceof byte[] bytes ? PostgresMapStore.versionOf(bytes) : 0;
  }

  // No fields: nothing to serialise when Hazelcast ships the policy between members.
  @Override
  public void writeData(ObjectDataOutput out) {}

  @Override
  public void readData(ObjectDataInput in) {}
}
