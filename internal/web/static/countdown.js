// Release countdowns for the patient console. A session whose online slots
// are not released yet carries its booking form hidden, with the release
// instant (data-release) and the server's clock when the page was made
// (data-now). This script counts down to the second and shows the form when
// the moment comes, without a reload. It is progressive: without it the page
// states the release time to the second, and a reload after it shows the
// form. The server decides in any case (an early request is refused with
// not_released). Served from /static under a strict CSP: no inline script.
(function () {
  "use strict";
  // The confirmation after a form (the flash) is in the page when it
  // loads, where a screen reader does not read it. Copied into an empty
  // status region once the page is there, it is announced, and the focus
  // stays where the page put it: on the field a clerk types into next.
  var flash = document.getElementById("flash"), announce = document.getElementById("announce");
  if (flash && announce) {
    setTimeout(function () {
      announce.textContent = flash.textContent;
    }, 300);
  }
})();

// Release countdowns.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-release]");
  if (!forms.length) {
    return;
  }
  // Count by the server's clock, not the device's, which may be off.
  var skew = Number(forms[0].getAttribute("data-now")) - Date.now();
  if (!isFinite(skew)) {
    skew = 0;
  }
  function say(ms) {
    var s = Math.ceil(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h > 0) {
      return "还有 " + h + " 小时 " + m + " 分 " + sec + " 秒 · in " + h + " h " + m + " min " + sec + " s";
    }
    if (m > 0) {
      return "还有 " + m + " 分 " + sec + " 秒 · in " + m + " min " + sec + " s";
    }
    return "还有 " + sec + " 秒 · in " + sec + " s";
  }
  var news = document.getElementById("release-news"), opened = [];
  function tick() {
    var now = Date.now() + skew, waiting = 0;
    Array.prototype.forEach.call(forms, function (f) {
      if (!f.hidden) {
        return;
      }
      var note = document.getElementById(f.getAttribute("data-note"));
      var left = Date.parse(f.getAttribute("data-release")) - now;
      if (left <= 0) {
        f.hidden = false;
        if (note) {
          note.hidden = true;
        }
        opened.push(f);
        return;
      }
      waiting++;
      var c = note && note.querySelector(".countdown");
      if (c) {
        c.textContent = say(left);
      }
    });
    // A screen reader hears each opening once, from one status region;
    // the countdowns themselves (role=timer) are not announced as they tick.
    if (opened.length && news) {
      news.textContent = opened.map(function (f) {
        var doc = f.closest(".session") && f.closest(".session").querySelector(".doc");
        return "网上预约已开放 Online booking is open" + (doc ? "：" + doc.textContent : "");
      }).join("；");
      opened = [];
    }
    if (waiting) {
      setTimeout(tick, 250);
    }
  }
  tick();
})();
