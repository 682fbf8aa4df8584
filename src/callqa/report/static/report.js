/* callqa report pages: click a time to play that moment of the redacted recording. No network, no data. */
(function () {
  "use strict";
  var audio = document.getElementById("call-audio");
  var status = document.getElementById("audio-status");
  var svg = document.querySelector("svg.timeline");
  var playhead = document.getElementById("playhead");
  var box = document.getElementById("turns");
  var turns = Array.prototype.slice.call(document.querySelectorAll(".turn[data-start]"));
  var current = null;

  function clock(t) {
    var m = Math.floor(t / 60), s = t - 60 * m;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function turnAt(t) {
    var hit = null;
    for (var i = 0; i < turns.length; i++) {
      if (parseFloat(turns[i].getAttribute("data-start")) <= t + 0.05) { hit = turns[i]; } else { break; }
    }
    return hit;
  }

  function markTurn(t, scroll) {
    var turn = turnAt(t);
    if (turn !== current) {
      if (current) { current.classList.remove("current"); }
      current = turn;
      if (turn) { turn.classList.add("current"); }
    }
    if (scroll && turn && box && box.scrollHeight > box.clientHeight) {
      box.scrollTop = Math.max(0, turn.offsetTop - box.clientHeight / 3);
    }
  }

  function movePlayhead(t) {
    if (!svg || !playhead) { return; }
    var x0 = parseFloat(svg.getAttribute("data-x0")), x1 = parseFloat(svg.getAttribute("data-x1"));
    var d = parseFloat(svg.getAttribute("data-duration")) || 1;
    var x = x0 + Math.min(Math.max(t / d, 0), 1) * (x1 - x0);
    playhead.setAttribute("x1", x.toFixed(1));
    playhead.setAttribute("x2", x.toFixed(1));
    playhead.setAttribute("visibility", "visible");
  }

  function seek(t) {
    if (!isFinite(t)) { return; }
    markTurn(t, true);
    movePlayhead(t);
    if (!audio || audio.getAttribute("data-failed")) {
      say("No recording to play: " + clock(t) + " is marked in the transcript.");
      return;
    }
    audio.currentTime = t;
    say("Playing from " + clock(t) + ".");
    var playing = audio.play();
    if (playing && typeof playing.catch === "function") {
      playing.catch(function () { say("Positioned at " + clock(t) + "; press play to listen."); });
    }
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("[data-t]") : null;
    if (!el) { return; }
    ev.preventDefault();
    seek(parseFloat(el.getAttribute("data-t")));
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" && ev.key !== " ") { return; }
    var el = ev.target && ev.target.closest ? ev.target.closest("svg [data-t]") : null;
    if (!el) { return; }
    ev.preventDefault();
    seek(parseFloat(el.getAttribute("data-t")));
  });

  if (audio) {
    audio.addEventListener("timeupdate", function () {
      markTurn(audio.currentTime, false);
      movePlayhead(audio.currentTime);
    });
    audio.addEventListener("error", function () {
      audio.setAttribute("data-failed", "1");
      audio.hidden = true;
      var note = document.getElementById("audio-note");
      if (note) { note.hidden = false; }
    });
  }
})();
