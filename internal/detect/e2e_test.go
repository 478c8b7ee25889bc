package detect_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"fairslot/internal/detect"
	"fairslot/internal/detect/synth"
)

// trace is one small generated trace: one hospital, 1,200 families and 8%
// scalpers, about 27,000 events.
func trace(t *testing.T) synth.Trace {
	t.Helper()
	return synth.Generate(synth.Params{Seed: 1, Families: 1200, ScalperShare: 0.08})
}

func TestEndToEnd(t *testing.T) {
	tr := trace(t)
	ev := detect.Evaluate(detect.Detect(tr.Events, detect.DefaultConfig()), tr.Labels)
	t.Logf("%d events: %+v", len(tr.Events), ev)
	if ev.Precision < 0.95 || ev.Recall < 0.95 {
		t.Errorf("precision %.3f, recall %.3f; want both ≥ 0.95", ev.Precision, ev.Recall)
	}
	if ev.FamiliesFlagged != 0 {
		t.Errorf("%d genuine families flagged, want none", ev.FamiliesFlagged)
	}
}

func TestDeterministic(t *testing.T) {
	tr := trace(t)
	want := detect.Detect(tr.Events, detect.DefaultConfig())
	if len(want) == 0 {
		t.Fatal("no flags to compare")
	}
	shuffled := slices.Clone(tr.Events)
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	got := detect.Detect(shuffled, detect.DefaultConfig())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("shuffled input gave different flags: %d vs %d", len(got), len(want))
	}
	if !reflect.DeepEqual(tr.Events[0], synth.Generate(synth.Params{Seed: 1, Families: 1200, ScalperShare: 0.08}).Events[0]) {
		t.Error("the generator is not deterministic")
	}
}

// The offline path (events written to a file and read back) gives the same
// flags as detection over the events in memory, as the service runs it.
func TestOfflineEqualsOnline(t *testing.T) {
	tr := trace(t)
	var buf bytes.Buffer
	if err := detect.WriteEvents(&buf, tr.Events); err != nil {
		t.Fatal(err)
	}
	read, err := detect.ReadEvents(&buf)
	if err != nil {
		t.Fatal(err)
	}
	online := detect.Detect(tr.Events, detect.DefaultConfig())
	offline := detect.Detect(read, detect.DefaultConfig())
	var a, b bytes.Buffer
	if err := detect.WriteFlags(&a, online); err != nil {
		t.Fatal(err)
	}
	if err := detect.WriteFlags(&b, offline); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("flags from the file differ from flags in memory")
	}
}

func TestEvaluate(t *testing.T) {
	flags := []detect.Flag{{AccountIDs: []string{"s1", "s2", "f1"}}}
	l := detect.Labels{Scalpers: map[string]string{"s1": "bot", "s2": "farm", "s3": "bot"}, Families: []string{"f1", "f2"}}
	ev := detect.Evaluate(flags, l)
	if ev.TruePositives != 2 || ev.FamiliesFlagged != 1 || ev.Missed["bot"] != 1 {
		t.Errorf("evaluation = %+v", ev)
	}
	if want := 2.0 / 3; ev.Precision != want || ev.Recall != want {
		t.Errorf("precision %v recall %v, want %v", ev.Precision, ev.Recall, want)
	}
}
